/*
 * A target under test as a real child process: started with its own log file, considered up
 * once its port answers an HTTP request (any status), and stopped with SIGTERM then, after a
 * grace period, SIGKILL to every process of its tree (listed before the first signal, since
 * workers are re-parented once their master exits).
 *
 * Ports: the tool picks a free port (listen on 0, close, reuse it) and polls it, which works
 * with any server. The child also gets an IPC channel: `serve` sends a typed
 * { type: 'gatehouse:ready', engine, addresses } message on it once listening, which tells us
 * which engine really runs (the CLI may stand one engine in for another that is not installed).
 * `portIsFree` also backs the up-front check of a user-given --port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { BenchProtocol } from './options.js';
import { processTree } from './proctree.js';

export const HOST = '127.0.0.1';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** true when something on the port answers an HTTP GET with any status (over h2c with prior knowledge for 'h2c'). */
export function answers(port: number, timeoutMs = 1000, protocol: BenchProtocol = 'http1'): Promise<boolean> {
  if (protocol === 'h2c') return answersH2c(port, timeoutMs);
  return new Promise((resolve) => {
    const request = http.get({ host: HOST, port, path: '/', agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(true);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

function answersH2c(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${HOST}:${port}`);
    const done = (answered: boolean) => { clearTimeout(timer); session.destroy(); resolve(answered); };
    const timer = setTimeout(() => done(false), timeoutMs);
    session.on('error', () => done(false));
    const stream = session.request({ ':path': '/' });
    stream.on('response', () => done(true));
    stream.on('error', () => done(false));
    stream.end();
  });
}

/**
 * Sends one `GET /` with `Connection: close` over a raw socket and resolves null when the server
 * answers and then closes the connection within timeoutMs, else says what it did instead. The
 * connection-per-request scenario measures nothing unless servers really close.
 */
export function closesAfterResponse(port: number, path = '/', timeoutMs = 3000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    let received = '';
    const done = (problem: string | null) => { clearTimeout(timer); socket.destroy(); resolve(problem); };
    const timer = setTimeout(() => done(received
      ? `kept the connection open ${timeoutMs} ms after answering a Connection: close request`
      : `did not answer a Connection: close request within ${timeoutMs} ms`), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => { received += chunk; });
    socket.on('error', (error) => done(`reset a Connection: close request (${(error as NodeJS.ErrnoException).code ?? error.message})`));
    socket.on('end', () => done(/^HTTP\/1\.[01] \d{3} /.test(received) ? null : 'closed the connection without an HTTP response'));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nConnection: close\r\n\r\n`);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ServerStart {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly port: number;
  readonly logFile: string;
  readonly cwd: string;
  readonly startTimeoutSec: number;
  /** true for `serve`, which sends a ready message; peers do not, so nobody waits for one. */
  readonly expectReady: boolean;
  /** What the readiness probe speaks (an h2c peer answers nothing else); default http1. */
  readonly protocol?: BenchProtocol;
}

/** What `serve` sends its parent over IPC once it listens (packages/cli ReadyMessage). */
export interface ReadyMessage {
  readonly type: 'gatehouse:ready';
  readonly pid: number;
  readonly engine: string;
  readonly addresses: readonly string[];
}

function isReadyMessage(message: unknown): message is ReadyMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'gatehouse:ready';
}

export class ServerProcess {
  readonly child: ChildProcess;
  ready: ReadyMessage | null = null;
  #onReady: (() => void) | null = null;
  #exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<void>;

  private constructor(readonly spec: ServerStart) {
    const log = openSync(spec.logFile, 'w');
    try {
      this.child = spawn(process.execPath, [...spec.args], {
        cwd: spec.cwd,
        env: { ...process.env, ...spec.env, PORT: String(spec.port), HOST },
        stdio: ['ignore', log, log, 'ipc'],
      });
      this.child.on('message', (message) => {
        if (isReadyMessage(message)) { this.ready = message; this.#onReady?.(); }
      });
      this.child.channel?.unref();
    } finally {
      closeSync(log);
    }
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => { this.#exited = { code, signal }; resolve(); });
      this.child.on('error', () => { this.#exited ??= { code: null, signal: null }; resolve(); });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.#exited === null;
  }

  /** What the process said last: the reason shown when it fails. */
  logTail(lines = 3): string {
    try {
      const text = readFileSync(this.spec.logFile, 'utf8').trim();
      return text.split('\n').slice(-lines).join(' | ').slice(0, 600);
    } catch {
      return '';
    }
  }

  exitDescription(): string {
    const e = this.#exited;
    if (!e) return 'still running';
    return e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`;
  }

  /** Spawns and waits until the port answers; throws with the log's last lines if it never does. */
  static async start(spec: ServerStart): Promise<ServerProcess> {
    const server = new ServerProcess(spec);
    const deadline = Date.now() + spec.startTimeoutSec * 1000;
    while (Date.now() < deadline) {
      if (!server.alive) throw new Error(`${server.exitDescription()} before answering: ${server.logTail() || '(no output)'}`);
      if (server.ready || (await answers(spec.port, 500, spec.protocol))) {
        // The port can answer a moment before the ready message arrives: give it that moment.
        if (!server.ready && spec.expectReady && server.child.connected) await server.#readyWithin(500);
        if (server.alive) return server;
      }
      await Promise.race([sleep(100), server.#readyWithin(100)]);
    }
    await server.stop(2);
    throw new Error(`did not answer on port ${spec.port} within ${spec.startTimeoutSec}s: ${server.logTail() || '(no output)'}`);
  }

  #readyWithin(ms: number): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#onReady = null; resolve(); }, ms);
      this.#onReady = () => { clearTimeout(timer); this.#onReady = null; resolve(); };
    });
  }

  async stop(graceSec = 5): Promise<void> {
    if (!this.alive) return;
    const tree = processTree(this.pid);
    this.child.kill('SIGTERM');
    const timer = sleep(graceSec * 1000).then(() => 'timeout' as const);
    if ((await Promise.race([this.exited.then(() => 'exited' as const), timer])) === 'timeout') this.child.kill('SIGKILL');
    // Workers that outlive their master would hold the port and skew the next target's figures.
    for (const pid of tree) {
      if (pid === this.pid) continue;
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await this.exited;
  }

  /** Synchronous last resort for process 'exit': no child may outlive the tool. */
  killTreeNow(): void {
    if (!this.alive) return;
    for (const pid of processTree(this.pid).reverse()) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}
