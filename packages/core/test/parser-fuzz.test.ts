/*
 * Bounded fuzzing of the request parser: random bytes, mutated valid requests, and requests
 * generated from the grammar (which must be accepted with the body they were built with).
 * For every input: no exception escapes, execute always makes progress or stops with an error
 * (the harness asserts it), the input is either accepted with framing that matches its body or
 * refused with an HTTP GatehouseError, a random split gives the same events as the whole input,
 * and whatever is accepted is well-formed (token names, no control bytes in values).
 * Bounded by count and time (FUZZ_INPUTS inputs or FUZZ_MS, whichever first); every input
 * comes from a PRNG seeded by its index, and a failure names the seed and the input.
 * FUZZ_SEED / FUZZ_INPUTS / FUZZ_MS in the environment replay or extend a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, prng, splits, LIMITS, type Outcome } from './kit/parser.js';
import { HTTP_ERRORS } from '../src/errors/http.js';
import { TCHAR, FIELD_VALUE } from '../src/http/grammar.js';
import type { ParserLimits } from '../src/http/options.js';

const INPUTS = Number(process.env['FUZZ_INPUTS'] ?? 20_000);
const TIME_MS = Number(process.env['FUZZ_MS'] ?? 5_000);
const BASE_SEED = Number(process.env['FUZZ_SEED'] ?? 0x9e3779b9);

// Small limits so the fuzzer reaches them too.
const FUZZ_LIMITS: ParserLimits = { ...LIMITS, maxRequestLine: 200, maxHeaderCount: 12, maxHeaderFieldSize: 120, maxBodySize: 300, maxChunkLine: 40 };

const ALPHABET = Buffer.from('\r\n\r\n \t:;,="\\\x00\x7f\x80\xff0123456789abcdefABCDEFxX-/?*.HTTP/1.1GETPOSThostcontent-lengthtransfer-encodingchunked', 'latin1');
const TOKENS = ['\r\n', '\n', '\r', ' ', '\t', ':', ',', ';', '=', '"', '\\', '\x00', '\x7f', '\xff', '0', '1', 'f', 'chunked', 'gzip', 'identity',
  'Content-Length: ', 'Transfer-Encoding: ', 'Host: a\r\n', 'Connection: close\r\n', '\r\n\r\n', '0\r\n\r\n', 'HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0', '*', 'CONNECT ', 'OPTIONS '];

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: Random, max: number): number => Math.floor(random() * max);

/** A valid request from the grammar, with the body the parser must deliver. */
function generate(random: Random): { text: string; body: string } {
  const method = pick(random, ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'X-CUSTOM']);
  const target = pick(random, ['/', '/a/b', '/p?q=1&r=%20', 'http://example.com/x', '/~!$&\'()*+,;=:@']);
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: example.com'];
  const names = ['Accept', 'X-Trace', 'user-agent', 'Cookie', 'X-Empty', 'Cache-Control'];
  for (let i = int(random, 5); i > 0; i--) {
    const value = pick(random, ['*/*', 'a b\tc', '', 'caf\xe9', 'x'.repeat(int(random, 60)), '"q"; v=1']);
    lines.push(`${pick(random, names)}:${pick(random, ['', ' ', '\t', '  '])}${value}${pick(random, ['', ' ', '\t'])}`);
  }
  let body = '';
  let framed = '';
  const framing = int(random, 3);
  if (framing === 1) {
    body = 'b'.repeat(int(random, 100));
    lines.push(`Content-Length: ${body.length}`);
    framed = body;
  } else if (framing === 2) {
    lines.push(pick(random, ['Transfer-Encoding: chunked', 'Transfer-Encoding: Chunked', 'transfer-encoding: identity, chunked']));
    for (let i = int(random, 4); i > 0; i--) {
      const piece = String.fromCharCode(97 + int(random, 26)).repeat(1 + int(random, 40));
      const ext = pick(random, ['', ';a', ';a=b', ';n="v"']);
      framed += `${piece.length.toString(16)}${ext}\r\n${piece}\r\n`;
      body += piece;
    }
    framed += `0\r\n${pick(random, ['', 'X-Sum: 1\r\n'])}\r\n`;
  }
  return { text: `${lines.join('\r\n')}\r\n\r\n${framed}`, body };
}

function mutate(random: Random, input: Buffer): Buffer {
  let out = Buffer.from(input);
  for (let n = 1 + int(random, 4); n > 0; n--) {
    const at = int(random, out.length + 1);
    switch (int(random, 5)) {
      case 0: if (out.length > 0) out[Math.min(at, out.length - 1)] = ALPHABET[int(random, ALPHABET.length)]!; break;
      case 1: out = Buffer.concat([out.subarray(0, at), Buffer.from(pick(random, TOKENS), 'latin1'), out.subarray(at)]); break;
      case 2: out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + int(random, 8)))]); break;
      case 3: { // duplicate a random slice somewhere else (repeats header lines, chunks, whole requests)
        const from = int(random, out.length + 1);
        const slice = out.subarray(from, from + int(random, 40));
        out = Buffer.concat([out.subarray(0, at), slice, out.subarray(at)]);
        break;
      }
      default: out = Buffer.concat([out.subarray(0, at), Buffer.from(String(int(random, 1000) - 10), 'latin1'), out.subarray(at)]);
    }
  }
  return out;
}

function randomBytes(random: Random): Buffer {
  const out = Buffer.alloc(int(random, 120));
  for (let i = 0; i < out.length; i++) out[i] = random() < 0.7 ? ALPHABET[int(random, ALPHABET.length)]! : int(random, 256);
  return out;
}

function checkOutcome(outcome: Outcome): void {
  if (outcome.error) {
    assert.ok(outcome.error.code in HTTP_ERRORS, `unexpected error code ${outcome.error.code}`);
    assert.equal(outcome.error.status, HTTP_ERRORS[outcome.error.code as keyof typeof HTTP_ERRORS].status);
  }
  for (const message of outcome.messages) {
    const { head } = message;
    assert.ok(head.method.length > 0 && [...head.method].every((c) => TCHAR[c.charCodeAt(0)] !== 0), 'method is a token');
    assert.ok(head.target.length > 0 && !/[\x00-\x20\x7f-\xff]/.test(head.target), 'target is VCHAR');
    assert.equal(head.rawHeaders.length % 2, 0);
    for (let i = 0; i < head.rawHeaders.length; i += 2) {
      const name = head.rawHeaders[i]!;
      const value = head.rawHeaders[i + 1]!;
      assert.ok(name.length > 0 && name === name.toLowerCase() && [...name].every((c) => TCHAR[c.charCodeAt(0)] !== 0), `bad name ${JSON.stringify(name)}`);
      assert.ok([...value].every((c) => FIELD_VALUE[c.charCodeAt(0)] === 1), `bad value ${JSON.stringify(value)}`);
      assert.ok(!/^[ \t]|[ \t]$/.test(value), 'value not trimmed');
    }
    if (head.framing.kind === 'none') assert.equal(message.body, '');
    if (head.framing.kind === 'length') assert.ok(message.body.length <= head.framing.length && (!message.complete || message.body.length === head.framing.length));
    if (head.framing.kind === 'length' || head.framing.kind === 'chunked') assert.ok(message.body.length <= FUZZ_LIMITS.maxBodySize, 'body over the limit');
  }
  // Only the last message may be incomplete.
  outcome.messages.slice(0, -1).forEach((m) => assert.ok(m.complete));
}

test('fuzz: random, mutated and generated requests', { timeout: TIME_MS + 30_000 }, () => {
  const deadline = Date.now() + TIME_MS;
  const counts = { random: 0, mutated: 0, generated: 0, accepted: 0, refused: 0 };
  const corpus: Buffer[] = [];
  let done = 0;
  for (; done < INPUTS && Date.now() < deadline; done++) {
    const seed = (BASE_SEED + done) >>> 0;
    const random = prng(seed);
    let input: Buffer;
    let expectedBody: string | null = null;
    const kind = int(random, 10);
    if (kind < 2) { input = randomBytes(random); counts.random++; }
    else if (kind < 4 || corpus.length === 0) {
      const made = generate(random);
      input = Buffer.from(made.text, 'latin1');
      expectedBody = made.body;
      if (corpus.length < 200) corpus.push(input);
      counts.generated++;
    } else { input = mutate(random, pick(random, corpus)); counts.mutated++; }
    try {
      const whole = parse(input, undefined, FUZZ_LIMITS);
      const split = parse(input, splits(input.length, { seed, cuts: 1 + int(random, 8) }), FUZZ_LIMITS);
      assert.deepStrictEqual({ m: split.messages, e: split.error }, { m: whole.messages, e: whole.error }, 'split differs from whole');
      checkOutcome(whole);
      if (whole.error) counts.refused++; else counts.accepted++;
      if (expectedBody !== null) {
        // Generated requests stay within FUZZ_LIMITS: they must be accepted, body intact.
        assert.equal(whole.error, null, `generated request refused: ${whole.error?.code}`);
        assert.equal(whole.messages.length, 1);
        assert.ok(whole.messages[0]!.complete);
        assert.equal(whole.messages[0]!.body, expectedBody);
      }
    } catch (error) {
      throw new Error(`fuzz failure at input ${done}, seed ${seed} (FUZZ_SEED=${BASE_SEED} FUZZ_INPUTS=${done + 1} replays it), input ${JSON.stringify(input.toString('latin1'))}: ${(error as Error).message}`, { cause: error });
    }
  }
  // The fuzzer must have exercised both outcomes, or it tested nothing.
  assert.ok(counts.accepted > 0 && counts.refused > 0, JSON.stringify(counts));
  console.log(`# parser fuzz: ${done} inputs ${JSON.stringify(counts)}`);
});
