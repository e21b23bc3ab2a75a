// A load-generating client process for idle.mjs and echo.mjs (started by targets.mjs's
// startClient with its options as one JSON argument, driven over IPC; not run by hand).
//
//   idle: opens `connections` WebSockets to `url`, at most `inFlight` handshakes at once, each
//         from the next of `localAddresses` in turn (each source address has its own ephemeral
//         ports), reports {type:'opened'} and holds them until told {type:'close'}.
//   echo: opens `connections` WebSockets, reports {type:'ready'}, then each sends a `size`-byte
//         binary message and sends the next when the echo comes back (one in flight per
//         socket). {type:'measure'} starts the counted window, {type:'report'} ends it and
//         answers with the messages echoed, the round-trip histogram and this process's CPU.
//
// The client must cost less than the server it measures: the payload is one Buffer sent again
// and again, and frames are masked with a zero key, which `ws` then skips applying (the mask
// protects proxies from a hostile page's bytes; a loopback load generator has neither).
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const options = JSON.parse(process.argv[2]);
const { mode, url, connections, localAddresses = ['127.0.0.1'], inFlight = 200, size = 1024 } = options;
const socketOptions = (i) => ({
  perMessageDeflate: false,
  localAddress: localAddresses[i % localAddresses.length],
  generateMask: (mask) => mask.fill(0),
  handshakeTimeout: 30_000,
});

/** Opens `count` sockets with at most `inFlight` handshakes pending; resolves with the open ones and the failures. */
async function openAll(count) {
  const open = [];
  let failed = 0;
  let firstError = null;
  let next = 0;
  const opener = async () => {
    while (next < count) {
      const i = next++;
      const socket = new WebSocket(url, socketOptions(i));
      await new Promise((resolve) => {
        socket.once('open', () => { open.push(socket); resolve(); });
        socket.once('error', (error) => { failed++; firstError ??= error.message; resolve(); });
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, opener));
  return { open, failed, firstError };
}

// Round trips in 10 µs buckets up to 2 s; slower ones land in the last bucket.
const BUCKET_MS = 0.01;
const buckets = new Uint32Array(200_001);
let echoed = 0;
let measuring = false;
let cpuAtStart = null;
let timeAtStart = 0;

function runEcho(sockets) {
  const payload = Buffer.alloc(size, 0x61);
  for (const socket of sockets) {
    let sentAt = 0;
    const sendNext = () => {
      sentAt = performance.now();
      socket.send(payload);
    };
    socket.on('message', () => {
      if (measuring) {
        echoed++;
        buckets[Math.min(buckets.length - 1, Math.floor((performance.now() - sentAt) / BUCKET_MS))]++;
      }
      sendNext();
    });
    socket.on('error', () => {});
    sendNext();
  }
}

const { open, failed, firstError } = await openAll(connections);
if (mode === 'idle') {
  for (const socket of open) socket.on('error', () => {});
  process.send({ type: 'opened', opened: open.length, failed, firstError });
} else {
  process.send({ type: 'ready', opened: open.length, failed, firstError });
  runEcho(open);
}

process.on('message', (message) => {
  if (message.type === 'measure') {
    echoed = 0;
    buckets.fill(0);
    measuring = true;
    cpuAtStart = process.cpuUsage();
    timeAtStart = performance.now();
  } else if (message.type === 'report') {
    measuring = false;
    const cpu = process.cpuUsage(cpuAtStart);
    const histogram = [];
    buckets.forEach((n, i) => { if (n > 0) histogram.push([i, n]); });
    process.send({ type: 'report', echoed, histogram, bucketMs: BUCKET_MS, cpuSec: (cpu.user + cpu.system) / 1e6, seconds: (performance.now() - timeAtStart) / 1000 }, finish);
  } else if (message.type === 'close') {
    finish();
  }
});

function finish() {
  for (const socket of open) socket.terminate();
  process.disconnect();
  setTimeout(() => process.exit(0), 100).unref();
}
