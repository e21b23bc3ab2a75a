/*
 * Test helpers: run the real `serve` bin (node packages/cli/bin/serve.js) as a child process,
 * wait for its typed IPC ready message or a typed JSON log event (never a fixed sleep), and
 * make sure no child outlives its test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ReadyMessage } from '../../src/main.js';

export const REPO = fileURLToPath(new URL('../../../../../', import.meta.url));
export const SERVE_BIN = path.join(REPO, 'packages/cli/bin/serve.js');
export const CORE_URL = pathToFileURL(path.join(REPO, 'packages/core/dist/src/index.js')).href;

/** The environment without any variable of the caller's that serve reads (GATEHOUSE_*, WEB_CONCURRENCY). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GATEHOUSE_') && key !== 'WEB_CONCURRENCY') env[key] = value;
  return { ...env, ...extra };
}

export function tempDir(files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-cli-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

export const HELLO_APP = `export default function app(request) {
  if (request.path === '/missing') return { status: 404, body: 'no' };
  return { status: 200, headers: [['content-type', 'text/plain']], body: 'hello ' + request.path };
}
`;

/** `node serve.js ARGS`, run through a wrapper command that execs it (e.g. ['taskset', '-c', '0']). */
function serveCommand(args: string[], wrapper: string[] = []): string[] {
  return [...wrapper, process.execPath, SERVE_BIN, ...args];
}

export interface RunResult { code: number | null; stdout: string; stderr: string }

/** Runs serve to completion (for --help, --print-config, --check-config and error paths). */
export function runServe(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; uid?: number; gid?: number; wrapper?: string[] } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [command, ...commandArgs] = serveCommand(args, options.wrapper);
    const child = spawn(command!, commandArgs, { cwd: options.cwd ?? REPO, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'], uid: options.uid, gid: options.gid });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`serve ${args.join(' ')} did not finish; stderr: ${stderr}`)); }, options.timeoutMs ?? 15_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

export interface LogRecord { level: number; msg: string; event?: string; [key: string]: unknown }

export class ServeProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly records: LogRecord[] = [];
  readonly ready: Promise<ReadyMessage>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #waiters: Array<() => void> = [];

  /**
   * detached: the server leads a process group of its own (a test can signal the whole group).
   * fileLimit: start it under `ulimit -n` (through sh, whose `ulimit` every POSIX system has).
   */
  constructor(args: string[], options: { cwd?: string; env?: Record<string, string>; detached?: boolean; wrapper?: string[]; fileLimit?: number } = {}) {
    const wrapper = options.fileLimit === undefined
      ? options.wrapper
      : ['/bin/sh', '-c', `ulimit -n ${options.fileLimit} && exec "$0" "$@"`, ...(options.wrapper ?? [])];
    const [command, ...commandArgs] = serveCommand(args, wrapper);
    this.child = spawn(command!, commandArgs, {
      cwd: options.cwd ?? REPO, env: cleanEnv({ GATEHOUSE_LOG_FORMAT: 'json', ...options.env }), stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: options.detached,
    });
    let partial = '';
    this.child.stderr!.on('data', (data: Buffer) => {
      this.stderr += data;
      partial += data;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try { this.records.push(JSON.parse(line) as LogRecord); } catch { /* a plain line (e.g. the error line) */ }
      }
      this.#notify();
    });
    this.child.stdout!.on('data', (data: Buffer) => { this.stdout += data; this.#notify(); });
    this.exited = new Promise((resolve) => this.child.on('close', (code: number | null, signal: NodeJS.Signals | null) => { this.#notify(); resolve({ code, signal }); }));
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (message: ReadyMessage) => { if (message?.type === 'gatehouse:ready') resolve(message); });
      void this.exited.then(({ code }) => reject(new Error(`serve exited (${code}) before ready; stderr:\n${this.stderr}`)));
    });
    this.ready.catch(() => { /* observed by the test that awaits it */ });
  }

  get url(): Promise<string> {
    return this.ready.then((m) => m.addresses[0]!);
  }

  #notify(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Resolves when `check()` is true, re-checked on every output and at most every 50 ms; fails after timeoutMs. */
  async until<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** The first log record with this event (and optional extra predicate) after `from` records. */
  event(event: string, from = 0, timeoutMs = 10_000): Promise<LogRecord> {
    return this.until(`log event "${event}"`, () => this.records.slice(from).find((r) => r.event === event), timeoutMs);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** For t.after: make sure the process is gone. */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Polls a condition that has no event to wait on (a file's content); bounded. */
export async function eventually<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function readLines(file: string): string[] {
  try { return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean); } catch { return []; }
}

/**
 * The body of GET `url`/ over node:http, so the test process's own fetch (undici, which the
 * lean-load tests watch for) plays no part.
 */
export async function getTextOverNodeHttp(url: string): Promise<string> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    request(`${url}/`, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve(body));
    }).on('error', reject).end();
  });
}
