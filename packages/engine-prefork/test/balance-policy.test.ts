/*
 * The master's choice of whom to ask to `shed` (balance-policy.ts): the busiest worker gives
 * back half the gap when the split is uneven, but not while it is settling after receiving
 * moved connections, whose counts the heartbeats may not show yet.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BalancePolicy, SETTLE_MS } from '../src/balance-policy.js';

const worker = (name: string, connections: number) => ({ name, connections });

describe('BalancePolicy', () => {
  it('asks the busiest worker for half the gap when the split is uneven', () => {
    const policy = new BalancePolicy<ReturnType<typeof worker>>();
    const a = worker('a', 40);
    const b = worker('b', 10);
    const ask = policy.pick([a, b], 0);
    assert.equal(ask?.worker, a);
    assert.equal(ask?.count, 15);
  });

  it('leaves an even enough split alone (within 2, or within a tenth of all connections)', () => {
    const policy = new BalancePolicy<ReturnType<typeof worker>>();
    assert.equal(policy.pick([worker('a', 3), worker('b', 1)], 0), null);
    assert.equal(policy.pick([worker('a', 35), worker('b', 29)], 0), null);
    assert.equal(policy.pick([worker('a', 8)], 0), null, 'one worker has nobody to give to');
  });

  it('does not ask a worker that just received moved connections to give any back until it settles', () => {
    const policy = new BalancePolicy<ReturnType<typeof worker>>();
    const a = worker('a', 10);
    const b = worker('b', 40); // its count grew: it was handed connections (or accepted a burst)
    policy.received(b, 1000);
    assert.equal(policy.pick([a, b], 1000 + SETTLE_MS - 1), null, 'not back the way they came at once');
    const ask = policy.pick([a, b], 1000 + SETTLE_MS);
    assert.equal(ask?.worker, b, 'once settled, the busiest gives back as usual');
    assert.equal(ask?.count, 15);
  });
});
