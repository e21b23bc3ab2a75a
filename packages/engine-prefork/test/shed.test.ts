/*
 * The worker's side of a `shed` (worker/shed.ts), with a fake host: connections leave one at a
 * time, each only once the previous one was sent; the latest ask replaces the one before; with
 * no idle connection it tries again after a bounded number of turns.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { Shedder, type ShedHost } from '../src/worker/shed.js';

class FakeHost implements ShedHost {
  idle: string[];
  /** Sockets handed to migrate() whose send has not completed, oldest first. */
  readonly sending: Array<{ socket: string; sent: () => void }> = [];
  readonly migrated: string[] = [];
  readonly turns: Array<() => void> = [];

  constructor(idle: string[]) { this.idle = idle; }

  release(count: number): net.Socket[] {
    return this.idle.splice(0, count) as unknown as net.Socket[];
  }

  migrate(socket: net.Socket, sent: () => void): void {
    const name = socket as unknown as string;
    this.migrated.push(name);
    this.sending.push({ socket: name, sent });
  }

  afterTurn(task: () => void): void { this.turns.push(task); }

  /** The oldest send completes. */
  complete(): void { this.sending.shift()!.sent(); }

  /** One turn of the event loop passes. */
  turn(): void { for (const task of this.turns.splice(0)) task(); }
}

describe('Shedder', () => {
  it('sends one connection at a time, the next only once the previous was sent', () => {
    const host = new FakeHost(['a', 'b', 'c', 'd']);
    const shedder = new Shedder(host);
    shedder.ask(3);
    assert.deepEqual(host.migrated, ['a'], 'only the first leaves at once');
    assert.deepEqual(host.idle, ['b', 'c', 'd'], 'the others stay here, still served');
    host.complete();
    assert.deepEqual(host.migrated, ['a', 'b']);
    host.complete();
    host.complete();
    assert.deepEqual(host.migrated, ['a', 'b', 'c'], 'no more than asked');
    assert.deepEqual(host.idle, ['d']);
    assert.equal(shedder.owed, 0);
  });

  it('a new ask replaces the one before instead of adding to it', () => {
    const host = new FakeHost(['a', 'b', 'c', 'd', 'e', 'f']);
    const shedder = new Shedder(host);
    shedder.ask(4);
    host.complete();
    assert.deepEqual(host.migrated, ['a', 'b'], 'two gone under the first ask');
    shedder.ask(2); // the master, seeing those two gone, asks for two more
    while (host.sending.length > 0) host.complete();
    assert.deepEqual(host.migrated, ['a', 'b', 'c', 'd'], 'two more, not the four owed plus two');
  });

  it('with no idle connection, tries again after the turn, and gives up after a bounded number of turns', () => {
    const host = new FakeHost([]);
    const shedder = new Shedder(host);
    shedder.ask(2);
    assert.equal(host.turns.length, 1, 'a retry waits for the next turn');
    host.idle.push('late');
    host.turn();
    assert.deepEqual(host.migrated, ['late'], 'a connection that became idle leaves on the retry');
    host.complete();
    let turns = 0;
    while (host.turns.length > 0) { host.turn(); turns++; }
    assert.ok(turns > 0 && turns <= 16, `the ask lapsed after ${turns} turns`);
    assert.equal(shedder.owed, 1, 'still owed, until the next ask');
    host.idle.push('next');
    shedder.ask(1);
    assert.deepEqual(host.migrated, ['late', 'next']);
  });

  it('cancel() stops what is still owed', () => {
    const host = new FakeHost(['a', 'b', 'c']);
    const shedder = new Shedder(host);
    shedder.ask(3);
    shedder.cancel();
    host.complete();
    assert.deepEqual(host.migrated, ['a']);
  });
});
