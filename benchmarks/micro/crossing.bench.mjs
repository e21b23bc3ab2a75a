// Micro-benchmark: ways to move a request and its body between the main thread and an app
// thread, for the threaded engine (packages/engine-threaded; the choice and its figures are in
// docs/benchmarks.md, section 'Crossing between threads').
//
// Two questions, each answered with the same worker and the same bytes for every option:
// 1. Per-request messages: a RequestHead (8 headers) goes to the thread, a small response
//    comes back. Measured one at a time (latency: dominated by waking the other thread) and
//    with 64 in flight (throughput: what a loaded server sees).
//    - postMessage of the plain objects (structured clone), one message per postMessage;
//    - the same fields as a flat tuple ([tag, id, method, ...], what the engine sends);
//    - 64 messages per postMessage, as objects and as tuples (the engine batches each event-loop
//      turn's messages, see packages/engine-threaded/src/outbox.ts);
//    - JSON encoded into an ArrayBuffer that is transferred (hand serialization + transfer);
//    - a SharedArrayBuffer ring per direction, JSON-framed, woken by Atomics.notify and
//      awaited with Atomics.waitAsync (neither thread may block: both run event loops).
// 2. Body chunks, 64 KiB each, 16 in flight, the other side answers each with an ack:
//    - structured clone of an exact-size Uint8Array;
//    - structured clone of a 64 KiB view into a 1 MiB buffer (a socket read or an app's
//      slice: the clone copies the WHOLE backing buffer);
//    - copy the view into a fresh exact-size buffer, then transfer it;
//    - copy the view into a fresh exact-size buffer, then clone it (what the engine does for
//      views; an exact-size buffer is cloned as it is);
//    - copy into the SharedArrayBuffer ring (and out again on the other side).
//
// Each tinybench iteration moves BATCH messages; ops/s is messages per second from the median.
// Usage: node benchmarks/micro/crossing.bench.mjs [--time ms] [--only 'chunk'|'request'] [--json]
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Bench } from 'tinybench';

const args = process.argv.slice(2);
const timeMs = Number(args[args.indexOf('--time') + 1]) || 1000;
const asJson = args.includes('--json');

// ---- a single-producer single-consumer byte ring over a SharedArrayBuffer -----------------
// control: [0] write offset, [1] read offset, [2] bytes used, [3] wake counter.
// Messages are [u32 length][bytes]; either may wrap around the end of the ring.
const RING_SOURCE = `
class Ring {
  constructor(sab) {
    this.control = new Int32Array(sab, 0, 4);
    this.data = new Uint8Array(sab, 16);
    this.capacity = this.data.byteLength;
    this.lengthBytes = new Uint8Array(4);
    this.lengthView = new DataView(this.lengthBytes.buffer);
  }
  static create(capacity) { return new SharedArrayBuffer(16 + capacity); }
  #copyIn(offset, bytes) {
    const first = Math.min(bytes.byteLength, this.capacity - offset);
    this.data.set(bytes.subarray(0, first), offset);
    if (first < bytes.byteLength) this.data.set(bytes.subarray(first), 0);
    return (offset + bytes.byteLength) % this.capacity;
  }
  #copyOut(offset, target) {
    const first = Math.min(target.byteLength, this.capacity - offset);
    target.set(this.data.subarray(offset, offset + first));
    if (first < target.byteLength) target.set(this.data.subarray(0, target.byteLength - first), first);
    return (offset + target.byteLength) % this.capacity;
  }
  /** Returns false when the ring is full (the caller retries later). */
  write(bytes) {
    const need = 4 + bytes.byteLength;
    if (this.capacity - Atomics.load(this.control, 2) < need) return false;
    this.lengthView.setUint32(0, bytes.byteLength);
    let offset = this.#copyIn(this.control[0], this.lengthBytes);
    this.control[0] = this.#copyIn(offset, bytes);
    Atomics.add(this.control, 2, need);
    return true;
  }
  wake() { Atomics.add(this.control, 3, 1); Atomics.notify(this.control, 3); }
  /** The next message, or null when the ring is empty. */
  read() {
    if (Atomics.load(this.control, 2) === 0) return null;
    let offset = this.#copyOut(this.control[1], this.lengthBytes);
    const out = new Uint8Array(this.lengthView.getUint32(0));
    this.control[1] = this.#copyOut(offset, out);
    Atomics.sub(this.control, 2, 4 + out.byteLength);
    return out;
  }
  /** Resolves when a writer calls wake() after \`seen\`, or at once if it already has. */
  async waitFor(seen) {
    const result = Atomics.waitAsync(this.control, 3, seen);
    if (result.async) await result.value;
  }
  get wakeCount() { return Atomics.load(this.control, 3); }
}
`;
const Ring = new Function(`${RING_SOURCE}; return Ring;`)();

// ---- the app-thread side: echoes a reply per message, by the mode's own means ------------
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
${RING_SOURCE}
const RESPONSE = { t: 'response', id: 0, status: 200, headers: ['content-type', 'text/plain', 'content-length', '13'], body: 'Hello, World!', stream: false };
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const mode = workerData.mode;
const reply = (m) => Array.isArray(m) ? [3, m[1], 200, RESPONSE.headers, RESPONSE.body] : { ...RESPONSE, id: m.id };
if (mode === 'clone') {
  parentPort.on('message', (m) => parentPort.postMessage(reply(m)));
} else if (mode === 'batch') {
  parentPort.on('message', (batch) => parentPort.postMessage(batch.map(reply)));
} else if (mode === 'json-transfer') {
  parentPort.on('message', (m) => {
    const request = JSON.parse(decoder.decode(m.bytes));
    const bytes = encoder.encode(JSON.stringify({ ...RESPONSE, id: request.id }));
    parentPort.postMessage({ bytes }, [bytes.buffer]);
  });
} else if (mode === 'chunk-port') {
  parentPort.on('message', (m) => parentPort.postMessage(m.chunk.byteLength));
} else if (mode === 'ring' || mode === 'chunk-ring') {
  // Atomics.waitAsync holds no event-loop handle: without one the thread would just exit.
  setInterval(() => {}, 1 << 30);
  const inbound = new Ring(workerData.toThread);
  const outbound = new Ring(workerData.toMain);
  (async () => {
    for (;;) {
      const seen = inbound.wakeCount;
      let replied = false;
      for (let message = inbound.read(); message; message = inbound.read()) {
        if (mode === 'ring') {
          const request = JSON.parse(decoder.decode(message));
          outbound.write(encoder.encode(JSON.stringify({ ...RESPONSE, id: request.id })));
        } else {
          const ack = new Uint8Array(4); new DataView(ack.buffer).setUint32(0, message.byteLength);
          outbound.write(ack);
        }
        replied = true;
      }
      if (replied) outbound.wake();
      await inbound.waitFor(seen);
    }
  })();
}
parentPort.postMessage('ready');
`;

async function startWorker(mode, extra = {}) {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { mode, ...extra } });
  await new Promise((resolve) => worker.once('message', resolve));
  return worker;
}

const HEAD = {
  method: 'GET', target: '/articles/42?ref=home', path: '/articles/42', query: 'ref=home', httpVersion: '1.1',
  rawHeaders: ['host', '127.0.0.1:8000', 'user-agent', 'wrk', 'accept', '*/*', 'accept-encoding', 'gzip, deflate',
    'accept-language', 'en-GB,en;q=0.9', 'cookie', 'session=3f2a9c1e7b6d4e5f8a0b1c2d3e4f5a6b', 'x-request-id', 'a1b2c3d4', 'connection', 'keep-alive'],
  scheme: 'http', remote: { address: '127.0.0.1', port: 51234 }, server: { address: '127.0.0.1', port: 8000 }, bodyLength: 0,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let nextId = 1;

/** Round trips `inFlight` request messages over the worker's port (structured clone). */
function cloneTrips(worker) {
  return (inFlight) => new Promise((resolve) => {
    let pending = inFlight;
    const onMessage = () => { if (--pending === 0) { worker.off('message', onMessage); resolve(); } };
    worker.on('message', onMessage);
    for (let i = 0; i < inFlight; i++) worker.postMessage({ t: 'request', id: nextId++, head: HEAD });
  });
}

const tupleOf = (id, head) => [0, id, head.method, head.target, head.path, head.query, head.httpVersion, head.rawHeaders,
  head.scheme, head.remote.address, head.remote.port, head.server.address, head.server.port, head.bodyLength, null];

/** Round trips `inFlight` request tuples, one postMessage each. */
function tupleTrips(worker) {
  return (inFlight) => new Promise((resolve) => {
    let pending = inFlight;
    const onMessage = () => { if (--pending === 0) { worker.off('message', onMessage); resolve(); } };
    worker.on('message', onMessage);
    for (let i = 0; i < inFlight; i++) worker.postMessage(tupleOf(nextId++, HEAD));
  });
}

/** `inFlight` requests in one postMessage (objects or tuples); the replies come back in one. */
function batchTrips(worker, asTuples) {
  return (inFlight) => new Promise((resolve) => {
    worker.once('message', () => resolve());
    const batch = [];
    for (let i = 0; i < inFlight; i++) batch.push(asTuples ? tupleOf(nextId++, HEAD) : { t: 'request', id: nextId++, head: HEAD });
    worker.postMessage(batch);
  });
}

function jsonTransferTrips(worker) {
  return (inFlight) => new Promise((resolve) => {
    let pending = inFlight;
    const onMessage = (m) => { JSON.parse(decoder.decode(m.bytes)); if (--pending === 0) { worker.off('message', onMessage); resolve(); } };
    worker.on('message', onMessage);
    for (let i = 0; i < inFlight; i++) {
      const bytes = encoder.encode(JSON.stringify({ t: 'request', id: nextId++, head: HEAD }));
      worker.postMessage({ bytes }, [bytes.buffer]);
    }
  });
}

function ringTrips(toThread, toMain, decode) {
  return async (inFlight, payload) => {
    for (let i = 0; i < inFlight; i++) {
      const bytes = payload ? payload() : encoder.encode(JSON.stringify({ t: 'request', id: nextId++, head: HEAD }));
      if (!toThread.write(bytes)) throw new Error('ring too small for the batch');
    }
    toThread.wake();
    let received = 0;
    while (received < inFlight) {
      const seen = toMain.wakeCount;
      for (let message = toMain.read(); message; message = toMain.read()) { decode(message); received++; }
      if (received < inFlight) await toMain.waitFor(seen);
    }
  };
}

function chunkPortTrips(worker, makeChunk, transfer) {
  return (inFlight) => new Promise((resolve) => {
    let pending = inFlight;
    const onMessage = () => { if (--pending === 0) { worker.off('message', onMessage); resolve(); } };
    worker.on('message', onMessage);
    for (let i = 0; i < inFlight; i++) {
      const chunk = makeChunk();
      worker.postMessage({ t: 'body', id: 1, chunk }, transfer ? [chunk.buffer] : undefined);
    }
  });
}

const CHUNK_SIZE = 64 * 1024;
const exact = new Uint8Array(CHUNK_SIZE).fill(7);
const big = new Uint8Array(1024 * 1024).fill(7);
const view = big.subarray(CHUNK_SIZE, 2 * CHUNK_SIZE);
const copyOf = (bytes) => { const copy = new Uint8Array(bytes.byteLength); copy.set(bytes); return copy; };

const workers = [];
const spawn = async (mode, extra) => { const w = await startWorker(mode, extra); workers.push(w); return w; };

const cloneWorker = await spawn('clone');
const clone = cloneTrips(cloneWorker);
const tuples = tupleTrips(cloneWorker);
const batchWorker = await spawn('batch');
const objectBatch = batchTrips(batchWorker, false);
const tupleBatch = batchTrips(batchWorker, true);
const jsonTransfer = jsonTransferTrips(await spawn('json-transfer'));
const ringIn = Ring.create(1 << 20), ringOut = Ring.create(1 << 20);
await spawn('ring', { toThread: ringIn, toMain: ringOut });
const ring = ringTrips(new Ring(ringIn), new Ring(ringOut), (m) => JSON.parse(decoder.decode(m)));
const chunkWorker = await spawn('chunk-port');
const chunkRingIn = Ring.create(2 << 20), chunkRingOut = Ring.create(1 << 16);
await spawn('chunk-ring', { toThread: chunkRingIn, toMain: chunkRingOut });
const chunkRing = ringTrips(new Ring(chunkRingIn), new Ring(chunkRingOut), () => {});

const scenarios = [
  // [group, option, messages per iteration, fn]
  ['request, 1 in flight', 'postMessage (structured clone)', 1, () => clone(1)],
  ['request, 1 in flight', 'postMessage of a tuple', 1, () => tuples(1)],
  ['request, 1 in flight', 'JSON in transferred ArrayBuffer', 1, () => jsonTransfer(1)],
  ['request, 1 in flight', 'SharedArrayBuffer ring + Atomics', 1, () => ring(1)],
  ['request, 64 in flight', 'postMessage (structured clone)', 64, () => clone(64)],
  ['request, 64 in flight', 'postMessage of a tuple each', 64, () => tuples(64)],
  ['request, 64 in flight', 'one postMessage of 64 objects', 64, () => objectBatch(64)],
  ['request, 64 in flight', 'one postMessage of 64 tuples (engine)', 64, () => tupleBatch(64)],
  ['request, 64 in flight', 'JSON in transferred ArrayBuffer', 64, () => jsonTransfer(64)],
  ['request, 64 in flight', 'SharedArrayBuffer ring + Atomics', 64, () => ring(64)],
  ['64 KiB chunk, 16 in flight', 'clone exact-size Uint8Array', 16, chunkPortTrips(chunkWorker, () => exact, false).bind(null, 16)],
  ['64 KiB chunk, 16 in flight', 'clone 64 KiB view of 1 MiB buffer', 16, chunkPortTrips(chunkWorker, () => view, false).bind(null, 16)],
  ['64 KiB chunk, 16 in flight', 'copy view, then transfer', 16, chunkPortTrips(chunkWorker, () => copyOf(view), true).bind(null, 16)],
  ['64 KiB chunk, 16 in flight', 'copy view, then clone (engine)', 16, chunkPortTrips(chunkWorker, () => copyOf(view), false).bind(null, 16)],
  ['64 KiB chunk, 16 in flight', 'SharedArrayBuffer ring copy', 16, () => chunkRing(16, () => view)],
];

const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : '';
const selected = scenarios.filter(([group]) => group.includes(only));
const bench = new Bench({ time: timeMs, warmupTime: 200 });
// Every task as an async function: tinybench decides per task whether to await it, and a task
// it runs as synchronous while it returns a promise leaves messages in flight into the next.
for (const [group, option, , fn] of selected) bench.add(`${group}: ${option}`, async () => { await fn(); });
await bench.run();

const rows = selected.map(([group, option, batch]) => {
  const task = bench.getTask(`${group}: ${option}`);
  const p50 = task.result.latency.p50;
  return { case: group, option, 'messages/s': Math.round((batch * 1000) / p50), 'us/message': Number(((p50 * 1000) / batch).toFixed(2)) };
});
// ratio: against the first option of the same case (postMessage of plain objects; cloning an exact-size chunk).
for (const row of rows) row.ratio = Number((row['messages/s'] / rows.find((r) => r.case === row.case)['messages/s']).toFixed(2));
if (asJson) {
  console.log(JSON.stringify({
    name: 'crossing', title: 'Main thread <-> app thread: request messages and body chunks', reference: 'the first option of each case',
    unit: 'messages/s', node: process.version, cpus: os.cpus().length, rows,
  }));
} else {
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${timeMs} ms per task`);
  console.table(rows);
}
await Promise.all(workers.map((w) => w.terminate()));
