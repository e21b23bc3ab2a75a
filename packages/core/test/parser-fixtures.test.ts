/*
 * Raw request fixtures (Gunicorn's tests/requests layout): fixtures/requests/{valid,invalid}/
 * NAME.http holds the bytes, with \r \n \t \\ and \xHH escapes and real newlines ignored (so
 * files stay readable); NAME.json beside it holds the expectation, written by hand. Each
 * fixture is replayed whole, split at every byte, and split at random points (fixed seeds),
 * and every replay must give the same events.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse, splits, type Outcome } from './parser-harness.js';

// Fixtures stay in the source tree: dist/test/ -> ../../test/fixtures.
const root = fileURLToPath(new URL('../../test/fixtures/requests/', import.meta.url));
const RANDOM_SPLITS = 20;

function load(path: string): Buffer {
  const text = readFileSync(path, 'latin1').replace(/\n/g, '');
  const raw = text.replace(/\\(r|n|t|\\|x[0-9a-fA-F]{2})/g, (_, e: string) =>
    e === 'r' ? '\r' : e === 'n' ? '\n' : e === 't' ? '\t' : e === '\\' ? '\\' : String.fromCharCode(parseInt(e.slice(1), 16)));
  return Buffer.from(raw, 'latin1');
}

function fixtures(kind: 'valid' | 'invalid'): string[] {
  return readdirSync(join(root, kind)).filter((f) => f.endsWith('.http')).map((f) => f.slice(0, -5)).sort();
}

/** Replays one input under every split; asserts all agree and returns the whole-input outcome. */
function replay(input: Buffer): Outcome {
  const events = (o: Outcome) => ({ messages: o.messages, error: o.error });
  const whole = parse(input, splits(input.length, 'whole'));
  assert.deepStrictEqual(events(parse(input, splits(input.length, 'bytes'))), events(whole), 'split at every byte');
  for (let seed = 1; seed <= RANDOM_SPLITS; seed++) {
    const cuts = 1 + (seed % 6);
    assert.deepStrictEqual(events(parse(input, splits(input.length, { seed, cuts }))), events(whole), `random split, seed ${seed}`);
  }
  return whole;
}

interface ExpectedMessage {
  method: string; target: string; httpVersion: string; headers: [string, string][];
  framing: unknown; keepAlive: boolean; expectContinue: boolean; upgrade: boolean; body: string; trailers: string[] | null;
}

describe('valid request fixtures', { timeout: 30_000 }, () => {
  for (const name of fixtures('valid')) {
    test(name, () => {
      const input = load(join(root, 'valid', `${name}.http`));
      const expected = JSON.parse(readFileSync(join(root, 'valid', `${name}.json`), 'utf8')) as { messages: ExpectedMessage[] };
      const outcome = replay(input);
      assert.equal(outcome.error, null);
      assert.equal(outcome.consumed, input.length, 'every byte consumed');
      const got = outcome.messages.map((m) => {
        assert.ok(m.complete, 'message complete');
        const h = m.head;
        const pairs: [string, string][] = [];
        for (let i = 0; i < h.rawHeaders.length; i += 2) pairs.push([h.rawHeaders[i]!, h.rawHeaders[i + 1]!]);
        return { method: h.method, target: h.target, httpVersion: h.httpVersion, headers: pairs, framing: h.framing,
          keepAlive: h.keepAlive, expectContinue: h.expectContinue, upgrade: h.upgrade, body: m.body, trailers: m.trailers };
      });
      assert.deepStrictEqual(got, expected.messages);
    });
  }
});

describe('invalid request fixtures', { timeout: 30_000 }, () => {
  for (const name of fixtures('invalid')) {
    test(name, () => {
      const input = load(join(root, 'invalid', `${name}.http`));
      const expected = JSON.parse(readFileSync(join(root, 'invalid', `${name}.json`), 'utf8')) as { code: string; status: number; completeBefore: number };
      const outcome = replay(input);
      assert.deepStrictEqual(outcome.error, { code: expected.code, status: expected.status });
      assert.equal(outcome.messages.filter((m) => m.complete).length, expected.completeBefore, 'messages completed before the error');
      assert.ok(outcome.consumed < input.length, 'the parser stopped at the error');
    });
  }
});
