/*
 * Differential fuzzing of our request parser against llhttp (node:http's parser), bounded for
 * the test suite: fast-check draws generated requests (with smugglers' variations of every
 * framing field) and mutations of the valid fixtures; kit/differential.ts judges each
 * input. Any framing difference, any laxity that is not listed with its reason, and any new
 * class of strictness fails the run with fast-check's seed and the shrunk input. The long run
 * is scripts/fuzz-differential.mjs.
 *
 * DIFF_SEED / DIFF_RUNS / DIFF_MS in the environment replay or extend the bounded run.
 *
 * The findings that were bugs (each fixed in the parser, each with a fixture in
 * fixtures/requests/invalid carrying the reason) are replayed below by name.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  compare, corpus, differentialInput, isFinding, judge, runLlhttp, runOurs, show,
  HEAD_ALLOWED, LAXER_ALLOWED, STRICTER_ALLOWED, type Side, type Verdict,
} from './kit/differential.js';

const SEED = Number(process.env['DIFF_SEED'] ?? 20240611);
const RUNS = Number(process.env['DIFF_RUNS'] ?? 3000);
const TIME_MS = Number(process.env['DIFF_MS'] ?? 5000);

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('differential fuzzing against llhttp', { timeout: TIME_MS + 30_000 }, () => {
  test(`bounded run: ${RUNS} inputs or ${TIME_MS} ms, seed ${SEED}: no framing difference, no unexplained laxity or strictness`, () => {
    const seen = new Map<string, number>();
    const base = corpus();
    assert.ok(base.length >= 10, 'the valid fixtures are the mutation corpus');
    const started = Date.now();
    let runs = 0;
    fc.assert(
      fc.property(differentialInput(base), (input) => {
        runs++;
        const verdict = judge(input);
        const key = `${verdict.kind}:${verdict.allowedBy ?? verdict.class}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (isFinding(verdict)) throw new Error(`${verdict.kind} (${verdict.class}) on ${show(input)}: ${verdict.detail}`);
      }),
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: TIME_MS, markInterruptAsFailure: false },
    );
    const summary = [...seen].sort().map(([k, n]) => `${k}=${n}`).join(' ');
    console.log(`# differential: ${runs} inputs in ${Date.now() - started} ms, seed ${SEED}: ${summary}`);
    // A run that never had both parsers accept, or never met a class of strictness, tested nothing.
    assert.ok((seen.get('agree:both-accept') ?? 0) > runs / 20, `too few inputs both accept: ${summary}`);
    assert.ok([...seen.keys()].filter((k) => k.startsWith('stricter:')).length >= 5, `too few strictness classes met: ${summary}`);
    assert.ok(runs >= Math.min(RUNS, 500), `only ${runs} inputs ran`);
  });
});

describe('the harness judges correctly', () => {
  const message = (end: number, body = '') => ({ method: 'GET', target: '/', version: '1.1', headers: [['host', 'a']] as Array<[string, string]>, body, keepAlive: true, end, upgrade: false });
  const side = (messages: ReturnType<typeof message>[], error: Side['error'] = null): Side => ({ messages, error });

  test('a different message end is a framing finding', () => {
    const verdict = compare(side([message(40, 'abc')]), side([message(41, 'abcd')]));
    assert.equal(verdict.kind, 'framing');
    assert.ok(isFinding(verdict));
  });

  test('completing a message llhttp refuses is a laxer finding; one it still waits on is a framing finding', () => {
    const laxer = compare(side([message(40)]), side([], { code: 'HPE_INVALID_CONTENT_LENGTH', detail: 'x' }));
    assert.equal(laxer.kind, 'laxer');
    assert.ok(isFinding(laxer));
    assert.equal(compare(side([message(40)]), side([])).kind, 'framing');
    assert.equal(compare(side([]), side([message(40)])).kind, 'framing');
  });

  test('refusing what llhttp completes is stricter: allowed only for a listed class', () => {
    const listed = compare(side([], { code: 'ERR_HTTP_BAD_REQUEST', detail: 'HTTP/1.1 request without Host' }), side([message(20)]));
    assert.deepEqual([listed.kind, listed.allowedBy], ['stricter', 'host-missing']);
    const unlisted = compare(side([], { code: 'ERR_HTTP_BAD_REQUEST', detail: 'something new' }), side([message(20)]));
    assert.equal(unlisted.kind, 'stricter');
    assert.ok(isFinding(unlisted));
  });

  test('a Host that differs from llhttp\'s is allowed only when it is the target\'s authority', () => {
    const absolute = (host: string) => ({ ...message(40), target: 'http://a.example:8/x', headers: [['host', host], ['x', '1']] as Array<[string, string]> });
    const allowed = compare(side([absolute('a.example:8')]), side([absolute('b.example')]));
    assert.deepEqual([allowed.kind, allowed.allowedBy], ['head', 'host-from-target']);
    const other = compare(side([absolute('c.example')]), side([absolute('b.example')]));
    assert.equal(other.kind, 'head');
    assert.ok(isFinding(other), 'a Host that is neither the sent one nor the target\'s is a finding');
    const origin = compare(side([{ ...message(40), headers: [['host', 'c']] }]), side([message(40)]));
    assert.ok(isFinding(origin), 'with an origin-form target, Host is reported as sent');
  });

  test('llhttp is really driven: it frames pipelined requests where they end', () => {
    const input = b('POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: a\r\n\r\n');
    const second = input.indexOf('GET');
    const expected = [['POST', '/a', 'abc', second], ['GET', '/b', '', input.length]];
    assert.deepEqual(runLlhttp(input).messages.map((m) => [m.method, m.target, m.body, m.end]), expected);
    assert.deepEqual(runOurs(input).messages.map((m) => [m.method, m.target, m.body, m.end]), expected);
    assert.equal(judge(input).kind, 'agree');
  });
});

/**
 * Each finding of the differential fuzzer that was a bug: the input (shrunk), what we did
 * before the fix, and the rule now. Each must now be refused by us, and judged as an allowed
 * strictness (never laxer, never a framing difference).
 */
const FIXED_FINDINGS: ReadonlyArray<{ name: string; input: string; was: string; allowedAs: string }> = [
  {
    name: 'BWS after a chunk-size (llhttp: HPE_INVALID_CHUNK_SIZE)',
    input: 'PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4 ;a=b\r\nc1\rz\r\n0\r\n\r\n',
    was: 'accepted: RFC 9112 allows BWS before ";", llhttp refuses any whitespace in the chunk line',
    allowedAs: 'chunk-size-syntax',
  },
  {
    name: 'BWS inside a chunk extension (llhttp: HPE_STRICT)',
    input: 'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n7; part="last"\r\nNetwork\r\n0\r\n\r\n',
    was: 'accepted (our valid fixture 004 even had it)',
    allowedAs: 'chunk-ext-syntax',
  },
  {
    name: 'CONNECT with Transfer-Encoding (llhttp: no body, HTTP ends at the head)',
    input: 'CONNECT example.com:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: example.com:443\r\n\r\n',
    was: 'waited for a chunked body where llhttp had completed the message',
    allowedAs: 'connect-body',
  },
];

describe('HTAB around a framing or Connection value is OWS: we accept what llhttp refuses, as SP would frame it', () => {
  const inputs = [
    'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: cHunked\t\r\n\r\n7\r\nMozilla\r\n0\r\n\r\n',
    'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length:\t4\t\r\n\r\nbodyGET /3 HTTP/1.1\r\nHost: a\r\n\r\n',
    // Found by the long run (seed 424242): llhttp does not see keep-alive, so it refuses the next request.
    'GET / HTTP/1.0\r\nConnection: Keep-Alive\t\r\n\r\nGET /2 HTTP/1.0\r\n\r\n',
  ];
  for (const input of inputs) {
    test(JSON.stringify(input.slice(0, 60)), () => {
      const bytes = b(input);
      assert.notEqual(runLlhttp(bytes).error, null, 'llhttp refuses it');
      const withSp = b(input.replace(/\t/g, ' '));
      assert.deepEqual(runOurs(bytes).messages, runOurs(withSp).messages, 'HTAB frames exactly as SP');
      assert.deepEqual(runOurs(withSp).messages, runLlhttp(withSp).messages, 'llhttp frames the SP form the same');
      const verdict = judge(bytes);
      assert.deepEqual([verdict.kind, verdict.allowedBy], ['laxer', 'htab-ows'], verdict.detail);
    });
  }
});

describe('findings of the differential fuzzer, fixed', () => {
  for (const finding of FIXED_FINDINGS) {
    test(finding.name, () => {
      const input = b(finding.input);
      const ours = runOurs(input);
      assert.equal(ours.messages.length, 0, `still accepted (before the fix: ${finding.was})`);
      assert.equal(ours.error?.code, 'ERR_HTTP_BAD_REQUEST');
      // Now either both refuse it, or we refuse what llhttp accepts, for a listed reason.
      const verdict: Verdict = judge(input);
      assert.ok(!isFinding(verdict), `${verdict.kind} ${verdict.class}: ${verdict.detail}`);
      if (verdict.kind === 'stricter') assert.equal(verdict.allowedBy, finding.allowedAs);
      else assert.deepEqual([verdict.kind, verdict.class], ['agree', 'both-refuse']);
    });
  }
});

/**
 * One input per allowed class, so every entry of the allow-lists is a class that exists.
 * `llhttp: 'refuses'` marks a strictness llhttp shares (both refuse the example): those entries
 * only decide the verdict on a truncated input, when we refuse before llhttp has seen enough.
 */
const CLASS_EXAMPLES: Record<string, { input: string; llhttp: 'accepts' | 'refuses' }> = {
  'limits': { input: `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`, llhttp: 'accepts' },
  'host-missing': { input: 'GET / HTTP/1.1\r\n\r\n', llhttp: 'accepts' },
  'host-repeated': { input: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', llhttp: 'accepts' },
  'te-http10': { input: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', llhttp: 'accepts' },
  'te-obs': { input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity,,chunked\r\n\r\n0\r\n\r\n', llhttp: 'accepts' },
  'te-not-implemented': { input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', llhttp: 'accepts' },
  'cl-and-te': { input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', llhttp: 'refuses' },
  'cl-repeated': { input: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx', llhttp: 'refuses' },
  'cl-syntax': { input: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12345678901234567\r\n\r\nx', llhttp: 'accepts' },
  'target-form': { input: 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', llhttp: 'accepts' },
  'target-bytes': { input: 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', llhttp: 'accepts' },
  'leading-empty-lines': { input: '\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', llhttp: 'accepts' },
  'method-syntax': { input: 'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n', llhttp: 'refuses' },
  'version-syntax': { input: 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', llhttp: 'accepts' },
  'bare-lf': { input: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', llhttp: 'accepts' },
  'field-syntax': { input: 'GET / HTTP/1.1\r\nHost: a\r\nX :a\r\n\r\n', llhttp: 'refuses' },
  'field-value-bytes': { input: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n', llhttp: 'refuses' },
  'trailer-framing-field': { input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nHost: b\r\n\r\n', llhttp: 'accepts' },
  'chunk-size-syntax': { input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n0\r\n\r\n', llhttp: 'accepts' },
  'chunk-ext-syntax': { input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\r\nx\r\n0\r\n\r\n', llhttp: 'accepts' },
  'chunk-data-end': { input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n', llhttp: 'refuses' },
  'host-syntax': { input: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', llhttp: 'accepts' },
  'connect-body': { input: 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 3\r\n\r\nabc', llhttp: 'accepts' },
  'method-not-registered': { input: 'BREW / HTTP/1.1\r\nHost: a\r\n\r\n', llhttp: 'refuses' },
  'url-parser': { input: 'GET ht1p://a/ HTTP/1.1\r\nHost: a\r\n\r\n', llhttp: 'refuses' },
  'data-after-close': { input: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n', llhttp: 'refuses' },
  'htab-ows': { input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\t\r\n\r\n1\r\nx\r\n0\r\n\r\n', llhttp: 'refuses' },
  'host-from-target': { input: 'GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n', llhttp: 'accepts' },
  'close-wins': { input: 'GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n', llhttp: 'accepts' },
};

describe('every allowed class has an example, judged as that class', () => {
  for (const entry of STRICTER_ALLOWED) {
    test(`stricter: ${entry.name}`, () => {
      const example = CLASS_EXAMPLES[entry.name];
      assert.ok(example !== undefined, `no example for ${entry.name}`);
      const input = b(example.input);
      const ours = runOurs(input);
      assert.match(`${ours.error?.code}: ${ours.error?.detail}`, entry.match);
      const verdict = judge(input);
      if (example.llhttp === 'accepts') assert.equal(verdict.allowedBy, entry.name, `${verdict.kind} ${verdict.class} ${verdict.detail}`);
      else assert.deepEqual([verdict.kind, runLlhttp(input).error !== null], ['agree', true], 'llhttp refuses it too');
    });
  }
  for (const entry of [...LAXER_ALLOWED, ...HEAD_ALLOWED]) {
    test(`laxer or different head: ${entry.name}`, () => {
      const example = CLASS_EXAMPLES[entry.name];
      assert.ok(example !== undefined, `no example for ${entry.name}`);
      const verdict = judge(b(example.input));
      assert.equal(verdict.allowedBy, entry.name, `${verdict.kind} ${verdict.class} ${verdict.detail}`);
    });
  }
});
