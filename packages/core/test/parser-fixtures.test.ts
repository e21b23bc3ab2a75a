/*
 * Raw request fixtures (Gunicorn's tests/requests layout): fixtures/requests/{valid,invalid}/
 * NAME.http holds the bytes, with \r \n \t \\ and \xHH escapes and real newlines ignored (so
 * files stay readable); NAME.json beside it holds the expectation. Each fixture is replayed
 * whole, split at every byte, and split at random points (fixed seeds), and every replay must
 * give the same events.
 *
 * Expectations are written by hand from the RFC and the .http bytes, never from the parser's
 * output: an expected value copied from the code under test cannot fail. So the format is not
 * the parser's (one "METHOD target HTTP/x.y" line, "name: value" strings, "length N" framing,
 * defaults left out), a valid fixture must say in `reason` which rules give its expectation,
 * unknown keys are errors, and nothing here or elsewhere writes these files.
 *
 * valid/NAME.json:   { "reason": "...", "messages": [ {
 *                        "request": "POST /x HTTP/1.1",            required
 *                        "headers": ["host: a", "accept:"],        required, arrival order
 *                        "framing": "none" | "chunked" | "length N", required
 *                        "keepAlive": true,                         required
 *                        "expectContinue": true, "upgrade": true,   default false
 *                        "body": "...",                             default "" (latin1)
 *                        "trailers": ["x-sum: 23"]                  default none
 *                      } ] }
 * invalid/NAME.json: { "code": "ERR_...", "status": 400, "completeBefore": 0, "reason"?: "..." }
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse, splits, type Outcome } from './kit/parser.js';

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

const MESSAGE_KEYS = new Set(['request', 'headers', 'framing', 'keepAlive', 'expectContinue', 'upgrade', 'body', 'trailers']);

/** "name: value" (or "name:" for an empty value) as [name, value]. */
function field(text: unknown): [string, string] {
  assert.equal(typeof text, 'string', `a field is a "name: value" string: ${JSON.stringify(text)}`);
  const line = text as string;
  const colon = line.indexOf(':');
  const rest = line.slice(colon + 1);
  assert.ok(colon > 0 && (rest === '' || rest.startsWith(' ')), `a field is "name: value": ${JSON.stringify(line)}`);
  return [line.slice(0, colon), rest.slice(1)];
}

/** Reads a hand-written valid expectation (format in the header) into what the parser reports. */
function expectation(path: string): ExpectedMessage[] {
  const file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  assert.deepStrictEqual(Object.keys(file).sort(), ['messages', 'reason'], `${path}: keys are "reason" and "messages"`);
  assert.ok(typeof file.reason === 'string' && file.reason.length > 0, `${path}: say which rules give the expectation`);
  return (file.messages as Array<Record<string, unknown>>).map((m) => {
    for (const key of Object.keys(m)) assert.ok(MESSAGE_KEYS.has(key), `${path}: unknown key ${key}`);
    const request = /^(\S+) (\S+) HTTP\/(1\.[01])$/.exec(m.request as string);
    assert.ok(request, `${path}: "request" is "METHOD target HTTP/1.x"`);
    const length = /^length (\d+)$/.exec(m.framing as string);
    const framing = length ? { kind: 'length', length: Number(length[1]) } : { kind: m.framing };
    assert.ok(length || m.framing === 'none' || m.framing === 'chunked', `${path}: framing is "none", "chunked" or "length N"`);
    assert.equal(typeof m.keepAlive, 'boolean', `${path}: keepAlive is required`);
    return {
      method: request[1]!, target: request[2]!, httpVersion: request[3]!,
      headers: (m.headers as unknown[]).map(field),
      framing, keepAlive: m.keepAlive as boolean,
      expectContinue: (m.expectContinue as boolean | undefined) ?? false,
      upgrade: (m.upgrade as boolean | undefined) ?? false,
      body: (m.body as string | undefined) ?? '',
      trailers: m.trailers === undefined ? null : (m.trailers as unknown[]).flatMap(field),
    };
  });
}

describe('valid request fixtures', { timeout: 30_000 }, () => {
  for (const name of fixtures('valid')) {
    test(name, () => {
      const input = load(join(root, 'valid', `${name}.http`));
      const expected = expectation(join(root, 'valid', `${name}.json`));
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
      assert.deepStrictEqual(got, expected);
    });
  }
});

describe('invalid request fixtures', { timeout: 30_000 }, () => {
  for (const name of fixtures('invalid')) {
    test(name, () => {
      const input = load(join(root, 'invalid', `${name}.http`));
      const expected = JSON.parse(readFileSync(join(root, 'invalid', `${name}.json`), 'utf8')) as { code: string; status: number; completeBefore: number };
      for (const key of Object.keys(expected)) assert.ok(['code', 'status', 'completeBefore', 'reason'].includes(key), `unknown key ${key}`);
      const outcome = replay(input);
      assert.deepStrictEqual(outcome.error, { code: expected.code, status: expected.status });
      assert.equal(outcome.messages.filter((m) => m.complete).length, expected.completeBefore, 'messages completed before the error');
      assert.ok(outcome.consumed < input.length, 'the parser stopped at the error');
    });
  }
});
