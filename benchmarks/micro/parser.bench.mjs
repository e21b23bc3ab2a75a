// Micro-benchmark: Gatehouse's request parser against llhttp, the parser inside node:http.
//
// Both parse the same bytes, from a Buffer that already holds one whole request, on a parser
// object reused across requests (as on a keep-alive connection). llhttp is driven through
// node:http's own binding (process.binding('http_parser').HTTPParser): the C parser plus the
// C++ glue that hands method, URL and the flat header array to JS in one callback, i.e. what a
// node:http server pays per request before IncomingMessage is built. Our side returns method,
// target, lower-cased header names and trimmed values, framing and keep-alive as strings and
// plain objects, which is what the Gateway needs; llhttp leaves names in their sent case.
//
// Each tinybench iteration parses BATCH requests (a single parse is below the timer's
// resolution); ops/s is requests per second from the median iteration time. Before timing,
// every input is parsed once by each side and the result checked, so neither side can be
// measuring an error path.
//
// Usage (after `npx --yes pnpm@10.34.8 build`): node benchmarks/micro/parser.bench.mjs [--time ms] [--json]
// (--json follows benchmarks/README.md: one object with rows {case, bytes, ours, reference, ratio}.)
import os from 'node:os';
import { Bench } from 'tinybench';
import { RequestParser } from '../../packages/core/dist/src/http/parser.js';

const BATCH = 64;
const args = process.argv.slice(2);
const timeMs = Number(args[args.indexOf('--time') + 1]) || 1000;
const json = args.includes('--json');

const crlf = (lines) => lines.join('\r\n');
const chunk = (text) => `${text.length.toString(16)}\r\n${text}\r\n`;
const INPUTS = {
  'small GET': {
    bytes: Buffer.from(crlf(['GET / HTTP/1.1', 'Host: 127.0.0.1:8080', '', '']), 'latin1'),
    headers: 1, body: 0,
  },
  'browser GET (15 headers)': {
    bytes: Buffer.from(crlf([
      'GET /articles/2024/http-parsing?ref=home&utm_source=newsletter HTTP/1.1',
      'Host: www.example.com',
      'Connection: keep-alive',
      'Cache-Control: max-age=0',
      'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
      'sec-ch-ua-mobile: ?0',
      'sec-ch-ua-platform: "Linux"',
      'Upgrade-Insecure-Requests: 1',
      'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8',
      'Sec-Fetch-Site: same-origin',
      'Sec-Fetch-Mode: navigate',
      'Sec-Fetch-Dest: document',
      'Referer: https://www.example.com/',
      'Accept-Encoding: gzip, deflate, br, zstd',
      'Accept-Language: en-GB,en;q=0.9,fr;q=0.8',
      'Cookie: session=3f2a9c1e7b6d4e5f8a0b1c2d3e4f5a6b; theme=dark; consent=1',
      '', '',
    ]), 'latin1'),
    headers: 16, body: 0,
  },
  'POST chunked (3 chunks)': {
    bytes: Buffer.from(
      crlf(['POST /api/items HTTP/1.1', 'Host: api.example.com', 'Content-Type: application/json',
        'Transfer-Encoding: chunked', 'Accept: application/json', '', '']) +
      chunk('{"name":"widget","tags":["a","b","c"],' + '"x":1,'.repeat(20)) +
      chunk('"description":"' + 'lorem ipsum '.repeat(16) + '",') +
      chunk('"price":12.5}') +
      '0\r\n\r\n',
      'latin1'),
    headers: 4, body: null, // computed below
  },
};
{
  const post = INPUTS['POST chunked (3 chunks)'];
  const text = post.bytes.toString('latin1');
  let body = 0;
  for (let i = text.indexOf('\r\n\r\n') + 4; ;) {
    const eol = text.indexOf('\r\n', i);
    const size = parseInt(text.slice(i, eol), 16);
    if (size === 0) break;
    body += size;
    i = eol + 2 + size + 2;
  }
  post.body = body;
}

// ---- Gatehouse ------------------------------------------------------------------------------

const limits = { maxRequestLine: 8190, maxHeaderCount: 100, maxHeaderFieldSize: 8190, maxBodySize: 0, maxChunkLine: 4096 };
function ourParser() {
  const seen = { head: null, body: 0, complete: 0 };
  const parser = new RequestParser(limits, {
    onHead(head) { seen.head = head; },
    onBody(bytes) { seen.body += bytes.length; },
    onMessageComplete() { seen.complete++; },
  });
  return { parser, seen };
}

// ---- llhttp via node:http's binding ---------------------------------------------------------

const { HTTPParser, methods } = process.binding('http_parser');
function llhttpParser() {
  const seen = { method: '', url: '', headers: null, body: 0, complete: 0 };
  const parser = new HTTPParser();
  // (type, async resource, maxHeaderSize (0 = default 16 KiB), lenient flags (0 = strict))
  parser.initialize(HTTPParser.REQUEST, {}, 0, 0);
  parser[HTTPParser.kOnHeadersComplete] = (major, minor, headers, method, url, statusCode, statusMessage, upgrade, keepAlive) => {
    seen.method = methods[method];
    seen.url = url;
    seen.headers = headers;
  };
  parser[HTTPParser.kOnBody] = (bytes) => { seen.body += bytes.length; };
  parser[HTTPParser.kOnMessageComplete] = () => { seen.complete++; };
  parser[HTTPParser.kOnHeaders] = () => {};
  parser[HTTPParser.kOnExecute] = () => {};
  return { parser, seen };
}

// ---- checks, then timing --------------------------------------------------------------------

function check(name, input) {
  const ours = ourParser();
  const n = ours.parser.execute(input.bytes);
  if (ours.parser.error || n !== input.bytes.length || ours.seen.complete !== 1 ||
      ours.seen.head.rawHeaders.length !== 2 * input.headers || ours.seen.body !== input.body) {
    throw new Error(`ours failed on ${name}: ${ours.parser.error?.message ?? JSON.stringify(ours.seen)}`);
  }
  const theirs = llhttpParser();
  const m = theirs.parser.execute(input.bytes);
  if (m !== input.bytes.length || theirs.seen.complete !== 1 || theirs.seen.headers.length !== 2 * input.headers || theirs.seen.body !== input.body) {
    throw new Error(`llhttp failed on ${name}: ${m instanceof Error ? m.message : JSON.stringify(theirs.seen)}`);
  }
}

const bench = new Bench({ time: timeMs, warmupTime: 200 });
for (const [name, input] of Object.entries(INPUTS)) {
  check(name, input);
  const bytes = input.bytes;
  const ours = ourParser();
  const theirs = llhttpParser();
  bench.add(`gatehouse: ${name}`, () => {
    for (let i = 0; i < BATCH; i++) ours.parser.execute(bytes);
  });
  bench.add(`llhttp: ${name}`, () => {
    for (let i = 0; i < BATCH; i++) theirs.parser.execute(bytes);
  });
  // Guard against a parser that silently stopped (e.g. died on the reused object).
  bench.getTask(`gatehouse: ${name}`).addEventListener('complete', () => {
    if (ours.parser.error) throw ours.parser.error;
  });
}
await bench.run();

const opsPerSecond = (task) => (BATCH * 1000) / task.result.latency.p50;
const rows = [];
for (const name of Object.keys(INPUTS)) {
  const ours = opsPerSecond(bench.getTask(`gatehouse: ${name}`));
  const theirs = opsPerSecond(bench.getTask(`llhttp: ${name}`));
  rows.push({ case: name, bytes: INPUTS[name].bytes.length, ours: Math.round(ours), reference: Math.round(theirs), ratio: Number((ours / theirs).toFixed(2)) });
}
const machine = { node: process.version, nproc: os.availableParallelism?.() ?? os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', date: new Date().toISOString() };
if (json) {
  // benchmarks/README.md convention: one JSON object, last line of stdout; ratio = ours / reference.
  console.log(JSON.stringify({
    name: 'parser',
    title: 'Request parser: Gatehouse vs llhttp',
    reference: 'llhttp (node:http\'s HTTPParser binding, process.binding("http_parser"))',
    unit: 'ops/s',
    batch: BATCH,
    timeMs,
    machine,
    rows,
  }));
} else {
  console.log(`Request parser: Gatehouse vs llhttp (node:http's HTTPParser binding), ${BATCH} parses per sample, median sample`);
  console.log(`${machine.date}  node ${machine.node}  nproc ${machine.nproc}  ${machine.cpu}`);
  console.table(rows.map((r) => ({ request: r.case, bytes: r.bytes, 'gatehouse ops/s': r.ours, 'llhttp ops/s': r.reference, 'ours/llhttp': r.ratio })));
}
