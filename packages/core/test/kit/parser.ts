/*
 * Drives a RequestParser the way a connection does (execute until the chunk is used up, a
 * new call after each complete message) over any split of the input, and records what it
 * reported as plain data, so tests can compare splits with deepStrictEqual. Body pieces are
 * joined (their boundaries depend on the split; their bytes must not).
 */
import assert from 'node:assert/strict';
import { RequestParser } from '../../src/http/parser.js';
import type { ParsedHead } from '../../src/http/parse-events.js';
import type { ParserLimits } from '../../src/http/options.js';

export const LIMITS: ParserLimits = {
  maxRequestLine: 8190,
  maxHeaderCount: 100,
  maxHeaderFieldSize: 8190,
  maxBodySize: 1024 * 1024,
  maxChunkLine: 4096,
};

export interface Message {
  head: ParsedHead;
  body: string;
  trailers: string[] | null;
  complete: boolean;
}

export interface Outcome {
  messages: Message[];
  error: { code: string; status: number } | null;
  /** Bytes consumed in all. */
  consumed: number;
}

/** Fixed-seed PRNG (mulberry32), so a failing case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Chunk boundaries for `length` bytes: 'whole', 'bytes' (every byte), or random cut points. */
export function splits(length: number, how: 'whole' | 'bytes' | { seed: number; cuts: number }): number[] {
  if (how === 'whole') return [length];
  if (how === 'bytes') return Array.from({ length }, (_, i) => i + 1);
  const random = prng(how.seed);
  const cuts = new Set<number>([length]);
  for (let i = 0; i < how.cuts; i++) cuts.add(1 + Math.floor(random() * length));
  return [...cuts].sort((a, b) => a - b);
}

/**
 * Feeds `input` chunk by chunk (ends given by `chunkEnds`). Each chunk is a fresh Buffer copy,
 * as a socket would deliver it, so the parser cannot lean on bytes it has not been given.
 */
export function parse(input: Uint8Array, chunkEnds: number[] = [input.length], limits: ParserLimits = LIMITS): Outcome {
  const messages: Message[] = [];
  let current: Message | null = null;
  const parser = new RequestParser(limits, {
    onHead(head) {
      assert.equal(current, null, 'onHead before the previous message completed');
      current = { head, body: '', trailers: null, complete: false };
      messages.push(current);
    },
    onBody(chunk) {
      assert.ok(current, 'onBody outside a message');
      assert.ok(chunk.length > 0, 'empty onBody');
      current.body += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    },
    onTrailers(trailers) {
      assert.ok(current, 'onTrailers outside a message');
      current.trailers = trailers;
    },
    onMessageComplete() {
      assert.ok(current, 'onMessageComplete without onHead');
      current.complete = true;
      current = null;
    },
  });
  let consumed = 0;
  let start = 0;
  for (const end of chunkEnds) {
    const chunk = Buffer.from(input.subarray(start, end));
    let pos = 0;
    while (pos < chunk.length && !parser.error) {
      const before = messages.length === 0 ? false : messages[messages.length - 1]!.complete;
      const n = parser.execute(chunk, pos, chunk.length);
      assert.ok(n >= 0 && n <= chunk.length - pos, `execute returned ${n}`);
      if (n === 0 && !parser.error) {
        // Only a completed message may return without consuming (never happens: a head has bytes).
        assert.fail(`execute made no progress at byte ${consumed + pos} (complete before: ${before})`);
      }
      pos += n;
      consumed += n;
      if (parser.error) break;
    }
    if (parser.error) break;
    start = end;
  }
  if (parser.error) {
    assert.equal(parser.execute(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), 0, 'a dead parser consumed bytes');
  }
  return {
    messages,
    error: parser.error ? { code: parser.error.code, status: parser.error.status } : null,
    consumed,
  };
}

export const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Parses `text` whole and at every byte, asserts both agree, and returns the outcome. */
export function parseBoth(text: string | Uint8Array, limits: ParserLimits = LIMITS): Outcome {
  const input = typeof text === 'string' ? bytes(text) : text;
  const whole = parse(input, splits(input.length, 'whole'), limits);
  const byByte = parse(input, splits(input.length, 'bytes'), limits);
  assert.deepStrictEqual(stripConsumed(byByte), stripConsumed(whole), 'byte-by-byte parse differs from whole parse');
  return whole;
}

function stripConsumed(outcome: Outcome): Omit<Outcome, 'consumed'> & { consumed?: number } {
  // After an error the split path may have carried part of the bad line; only events must agree.
  return outcome.error ? { messages: outcome.messages, error: outcome.error } : outcome;
}

/** The one message of a valid request, asserting there is exactly one and no error. */
export function one(text: string, limits: ParserLimits = LIMITS): Message {
  const outcome = parseBoth(text, limits);
  assert.equal(outcome.error, null, `unexpected ${outcome.error?.code}`);
  assert.equal(outcome.messages.length, 1);
  assert.ok(outcome.messages[0]!.complete, 'message not complete');
  return outcome.messages[0]!;
}

/** Asserts that `text` is refused with `code` (and its status), whole and byte by byte. */
export function rejects(text: string, code: string, status: number, limits: ParserLimits = LIMITS): Outcome {
  const outcome = parseBoth(text, limits);
  assert.deepStrictEqual(outcome.error, { code, status }, `expected ${code} for ${JSON.stringify(text.slice(0, 120))}`);
  return outcome;
}
