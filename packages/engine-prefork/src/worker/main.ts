/*
 * The worker process: what the master forks. It runs supervision plumbing only (the IPC
 * protocol of messages.ts, heartbeats, stop) around a WorkerBody that the master names by
 * module path, so the prefork engine and the hybrid engine share this file.
 *
 * Order: heartbeats start first, so a worker stuck importing the app is seen; then
 * the setup modules (the CLI's logging) and the postFork hook; then the body boots the app
 * (load + startup()) and, with --stack-on-timeout, the helper thread that can say where a
 * stuck loop is (stack-capture.ts). It listens on each socket the master shares when the
 * master says (`listen`): at once when no worker serves yet (the first boot), so connections
 * are accepted and held while the app loads, else once booted. Held connections are served, in
 * order, once the body is attached; `ready` only once it serves every listener (at once when
 * there are none: --sticky). On `stop` it closes its copies of the listeners, drains, runs
 * shutdown(), sends a final heartbeat (its metrics complete) and exits 0. A failure to boot is
 * reported as `boot-failed` and exit code EXIT_BOOT_FAILED,
 * which tells the master to stop rather than fork the same failure again.
 *
 * Signals: the master decides. A terminal's Ctrl-C or HUP reaches the whole process group;
 * workers ignore those (and TTIN/TTOU, whose default would suspend them) and wait for the
 * master's word. TERM sent to a worker alone drains and exits, as a supervisor
 * (systemd's control group) expects. USR1 reopens this worker's logs.
 */
import fs from 'node:fs';
import net from 'node:net';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { channels, descriptorsExhausted, dropPrivileges, guardAccept, holdConnections, importableSpecifier, loadConfigHooks, type Settings } from '@gatehouse/core/worker-runtime';
import { EXIT_BOOT_FAILED, SCOREBOARD_FD, encodeScoreboard, serializeError, type FromWorker, type RunningRequest, type ToWorker, type WorkerConfig } from '../messages.js';
import { startStackThread } from '../stack-capture.js';
import type { WorkerBody, WorkerBodyContext, WorkerBodyFactory, WorkerUnit } from './body.js';
import { Shedder } from './shed.js';

/**
 * A request that starts after a quiet moment (QUIET_MS since the previous one) and at least
 * EAGER_GAP_MS after the last heartbeat, or EAGER_BEAT_MS after it, sends a heartbeat at once,
 * so the master's stats show it in flight even if it then blocks the event loop. However the
 * requests are spaced (a new connection per request leaves quiet moments between bursts), that
 * is at most 1000 / EAGER_GAP_MS small messages a second, each read by the master too; a message
 * per request would halve throughput. Which request blocked the loop is the scoreboard's to
 * say, not a heartbeat's.
 */
const EAGER_BEAT_MS = 50;
const EAGER_GAP_MS = 10;
const QUIET_MS = 2;
/** Longest wait for the final report to be written before the worker exits anyway. */
const FINAL_REPORT_WAIT_MS = 1000;
/** How often a stopping worker looks whether only long-lived connections keep it (`lingering`). */
const LINGER_CHECK_MS = 50;

let config: WorkerConfig | null = null;
let body: WorkerBody | null = null;
let booted = false;
/** Listening on a shared socket, not yet serving it: the body attaches them once booted. */
const listening: net.Server[] = [];
let attached = 0;
let stopping: Promise<void> | null = null;
let pendingStop: { graceful: boolean; timeoutMs: number } | null = null;
let heartbeat: NodeJS.Timeout | undefined;
let lastBeatAt = 0;
let lastRequestAt = -Infinity;
let started = 0;
let retireSent = false;
/** The master announced a graceful stop (--stop-delay): readiness answers 503 from boot on. */
let drainAnnounced = false;

function send(message: FromWorker, then?: () => void): void {
  if (!process.connected) { then?.(); return; }
  try {
    process.send!(message, undefined, {}, then ? () => then() : undefined);
  } catch {
    then?.(); // the channel closed under us: the master is gone
  }
}

/** RSS as last read: the eager beats (up to 20 a second under load) repeat it instead of reading /proc again. */
let rss = 0;

/**
 * Reading RSS opens /proc/self/stat: with every descriptor taken (a connection flood under a
 * low `ulimit -n`) it throws EMFILE, and a heartbeat must never throw. The last reading stands.
 */
function readRss(): number {
  try {
    return process.memoryUsage.rss();
  } catch {
    return rss;
  }
}

/** Event-loop utilization at the previous periodic beat: each one reports the interval since. */
let loopAt: EventLoopUtilization = performance.eventLoopUtilization();
let utilization = 0;

/**
 * `periodic`: the timer's beat, which also reads RSS, the loop's utilization and metrics; else an
 * eager one. `then`: called once the message is written (the final report before exit).
 */
function beat(periodic: boolean, then?: () => void): void {
  lastBeatAt = Date.now();
  if (periodic || rss === 0) rss = readRss();
  if (periodic) {
    const now = performance.eventLoopUtilization();
    utilization = performance.eventLoopUtilization(now, loopAt).utilization;
    loopAt = now;
  }
  const stats = body?.stats();
  let metrics: Record<string, unknown> | undefined;
  if (periodic && channels.metricsCollect.hasSubscribers) {
    metrics = {};
    channels.metricsCollect.publish({ into: metrics });
  }
  // Out of descriptors, the worker reports no connection count, which leaves it out of the
  // master's balancing: a connection moved into it could not be received and would be lost.
  const connections = descriptorsExhausted() ? undefined : stats?.connections;
  send({ type: 'heartbeat', requests: stats?.requests ?? started, inFlight: stats?.inFlight ?? 0, upgraded: stats?.upgraded, rss, utilization,
    connections, queueDepth: stats?.queueDepth, metrics, children: stats?.children }, then);
}

/**
 * The scoreboard (messages.ts, worker-process.ts): it names the most recently started request
 * that has not ended, rewritten as a request starts and as the one it names ends, so that
 * whichever request blocks this loop is the one it names. Requests still running, oldest first.
 */
const running = new Set<RunningRequest>();
let board: number | null = null;
let named: RunningRequest | null = null;

function writeBoard(request: RunningRequest | null): void {
  named = request;
  if (board === null) return;
  try {
    fs.writeSync(board, encodeScoreboard(request), 0, undefined, 0);
  } catch {
    board = null; // no scoreboard (a master that gave none): the heartbeat still works
  }
}

function requestStarted(method: string, requestPath: string): () => void {
  started++;
  if (config!.maxRequests > 0 && started >= config!.maxRequests && !retireSent) {
    retireSent = true;
    send({ type: 'retire', reason: 'max-requests', requests: started });
  }
  const now = Date.now();
  const request: RunningRequest = { method, path: requestPath, startedAt: now };
  running.add(request);
  writeBoard(request);
  const sinceBeat = now - lastBeatAt;
  if (sinceBeat >= EAGER_BEAT_MS || (sinceBeat >= EAGER_GAP_MS && now - lastRequestAt >= QUIET_MS)) beat(false);
  lastRequestAt = now;
  return () => {
    if (!running.delete(request) || named !== request) return;
    let latest: RunningRequest | null = null;
    for (const other of running) latest = other;
    writeBoard(latest);
  };
}

async function start(received: WorkerConfig): Promise<void> {
  config = received;
  try {
    fs.fstatSync(SCOREBOARD_FD, { bigint: true }); // BigInt stats: see "Synchronous stats" in docs/engines.md
    board = SCOREBOARD_FD;
  } catch { /* started without one */ }
  heartbeat = setInterval(() => beat(true), config.heartbeatMs);
  beat(false);
  const settings: Readonly<Settings> = config.settings;
  const unit: WorkerUnit = { id: config.id, generation: config.generation, pid: process.pid };
  let phase: 'setup' | 'load' | 'startup' = 'setup';
  try {
    for (const spec of config.setupModules) {
      const setup = await import(importableSpecifier(spec, config.app.cwd)) as { default?: (settings: Settings, unit: unknown) => unknown };
      await setup.default?.(settings, { kind: 'process', ...unit });
    }
    dropPrivileges(settings);
    const hooks = await loadConfigHooks(config.configFile ?? (settings.config || undefined));
    await hooks.postFork?.({ ...unit });
    phase = 'load';
    const factory = (await import(importableSpecifier(config.entry)) as { default: WorkerBodyFactory }).default;
    const context: WorkerBodyContext = { settings, app: config.app, unit, data: config.data, requestStarted };
    body = await factory(context);
    phase = 'startup';
    await body.boot();
    if (settings.stackOnTimeout) await startStackThread();
  } catch (error) {
    const fallback = phase === 'startup' ? 'ERR_APP_STARTUP_FAILED' : 'ERR_APP_IMPORT_FAILED';
    send({ type: 'boot-failed', error: serializeError(error, fallback), phase }, () => process.exit(EXIT_BOOT_FAILED));
    return;
  }
  booted = true;
  if (drainAnnounced && body.health) body.health.draining = true;
  if (pendingStop) { void stop(pendingStop.graceful, pendingStop.timeoutMs); return; }
  send({ type: 'booted' });
  serveListening();
}

/**
 * `handle` is the master's bound socket (net/listen.ts, bindForWorkers). Listening on it here
 * makes the socket listen (the first worker) and sets its --backlog, which listen(2) sets for
 * every process sharing it; this process then accepts on it, and holds what it accepts until
 * the body serves it. A listen that fails (another server took the port between the master's
 * bind and this listen) is a boot failure.
 */
function listen(handle: object): void {
  if (stopping || pendingStop) { (handle as { close?(): void }).close?.(); return; }
  const server = net.createServer();
  const failed = (error: Error) => send({ type: 'boot-failed', error: serializeError(error, 'ERR_BIND_FAILED'), phase: 'setup' }, () => process.exit(EXIT_BOOT_FAILED));
  server.once('error', failed);
  server.listen(handle, config!.settings.backlog, () => {
    server.off('error', failed);
    if (stopping || pendingStop) { server.close(); return; }
    holdConnections(server);
    guardAccept(server, config!.settings.engine);
    listening.push(server);
    serveListening();
  });
}

/** Once booted: the body serves every socket this process listens on; `ready` once that is all of them. */
function serveListening(): void {
  if (!booted || stopping) return;
  for (const server of listening.splice(0)) {
    body!.attach(server);
    attached++;
  }
  if (attached === config!.listeners) send({ type: 'ready' });
}

/** A stopping worker whose body has no handOff: its idle connections go back to the master at once. */
function shed(count: number): void {
  if (!body?.shed || stopping) return;
  for (const socket of body.shed(count)) migrate(socket);
}

/** The master's `shed` asks: idle connections go back one at a time (shed.ts). */
const shedder = new Shedder({
  release: (count) => (body?.shed && !stopping ? body.shed(count) : []),
  migrate,
  afterTurn: (task) => setImmediate(task),
});

/** Gives one connection (reading stopped, nothing buffered) to the master, which hands it on; `sent` once written or failed. */
function migrate(socket: net.Socket, sent?: () => void): void {
  if (!process.connected) { socket.destroy(); sent?.(); return; }
  try {
    // The handle goes; node closes this process's copy once the master has it.
    process.send!({ type: 'migrate' } satisfies FromWorker, socket, {}, (error) => { if (error) socket.destroy(); sent?.(); });
  } catch {
    socket.destroy();
    sent?.();
  }
}

/**
 * `handOff`: every connection goes back to the master at its next moment between requests
 * (idle ones now, busy ones after their response), so the workers that stay serve the
 * client's next request on the same connection and no client sees a close. Then body.close()
 * closes the listeners and starts the drain synchronously, so `quiesced` (sent right after) is
 * true: nothing new reaches this worker's app from here on. The drain ends once the last
 * connection has moved (or closed, where it cannot move: TLS, a PROXY header).
 */
function stop(graceful: boolean, timeoutMs: number, handOff = false): Promise<void> {
  if (stopping) return stopping;
  // Nothing accepted while the app loaded is served now: those clients see the close at once.
  for (const server of listening.splice(0)) server.close();
  if (config && !booted) { pendingStop = { graceful, timeoutMs }; return Promise.resolve(); }
  shedder.cancel();
  if (handOff) {
    if (body?.handOff) body.handOff(migrate);
    else shed(Infinity);
  }
  stopping = (async () => {
    let unwatch = (): void => {};
    try {
      const closing = body?.close(graceful, timeoutMs);
      send({ type: 'quiesced' });
      unwatch = watchLingering();
      await closing;
    } finally {
      unwatch();
      clearInterval(heartbeat);
      // The final report: every request this worker served is in it (the drain is over), so
      // the master's counters lose nothing to a stop, a reload or a recycle. The master reads
      // it before it reaps the exit: it is in the IPC pipe before the process ends. A master too
      // busy to read its pipe does not keep this process alive past FINAL_REPORT_WAIT_MS.
      setTimeout(() => process.exit(0), FINAL_REPORT_WAIT_MS);
      beat(true, () => process.exit(0));
    }
  })();
  return stopping;
}

/**
 * While the drain runs: says `lingering` once, when no request runs and only long-lived
 * connections are left (upgraded, HTTP/2 sessions), so the master need not wait for this
 * process, which may keep them until its graceful timeout, before it starts the next worker.
 * A worker that empties instead just exits. Returns what stops the watch.
 */
function watchLingering(): () => void {
  if (body?.lingering === undefined) return () => {};
  const timer = setInterval(() => {
    if (!body!.lingering) return;
    clearInterval(timer);
    send({ type: 'lingering' });
  }, LINGER_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

process.on('message', (message: ToWorker, handle?: net.Server | net.Socket) => {
  switch (message.type) {
    case 'start': void start(message.config); break;
    case 'listen': if (handle) listen(handle); break;
    case 'connection':
      // A handover whose descriptor did not arrive (one this process had no room for): nothing to serve.
      if (!handle) break;
      if (body && !stopping) body.handle(handle as net.Socket);
      else (handle as net.Socket).destroy();
      break;
    case 'stop': void stop(message.graceful, message.timeoutMs, message.handOff); break;
    case 'shed': shedder.ask(message.count); break;
    case 'reopen-logs': channels.logsReopen.publish({ reason: 'signal' }); break;
    case 'drain-announced':
      drainAnnounced = true;
      if (body?.health) body.health.draining = true;
      break;
  }
});

// The master is gone (killed -9, or crashed): nobody will supervise us, so finish and leave.
process.on('disconnect', () => {
  const timeoutMs = (config?.settings.gracefulTimeout ?? 30) * 1000;
  if (!config || !booted) process.exit(0);
  void stop(true, timeoutMs);
});

for (const signal of ['SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGTTIN', 'SIGTTOU'] as const) process.on(signal, () => {});
process.on('SIGTERM', () => { void stop(true, (config?.settings.gracefulTimeout ?? 30) * 1000); });
process.on('SIGUSR1', () => channels.logsReopen.publish({ reason: 'signal' }));

if (!process.send) {
  process.stderr.write('gatehouse: this is a prefork worker process; the prefork master starts it\n');
  process.exit(1);
}

