/*
 * The real `serve` bin as a child process, for tests of what only a whole server process
 * shows (inherited sockets, switching user, restarts). It waits for the bin's typed IPC ready
 * message, never for a log string. The bin belongs to @gatehouse/cli, which is built after
 * core: a missing build is a clear failure, not a skip.
 *
 * The prefork engine is named by its built path (--engine accepts a path to an engine module),
 * so these tests run the prefork master whether or not the CLI depends on that package.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../../../', import.meta.url));
export const SERVE_BIN = path.join(REPO, 'packages/cli/bin/serve.js');
export const PREFORK_ENGINE = path.join(REPO, 'packages/engine-prefork/dist/src/index.js');

export function requireBuilt(): void {
  for (const file of [SERVE_BIN, path.join(REPO, 'packages/cli/dist/src/main.js'), PREFORK_ENGINE]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: build the workspace first (npx --yes pnpm@10.34.8 build)`);
  }
}

export interface ServeReady { type: 'gatehouse:ready'; addresses: string[] }

export interface ServeChild {
  readonly child: ChildProcess;
  readonly ready: Promise<ServeReady>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** SIGKILL if still running (for t.after). */
  dispose(): Promise<void>;
}

/** The environment without the caller's GATEHOUSE_* variables. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GATEHOUSE_') && !key.startsWith('LISTEN_')) env[key] = value;
  return { GATEHOUSE_LOG_FORMAT: 'json', ...env, ...extra };
}

/** Starts `serve ARGS` with an IPC channel (for the ready message) on the last stdio slot. */
export function spawnServe(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; extraStdio?: Array<number | 'ignore'>; uid?: number; gid?: number } = {}): ServeChild {
  requireBuilt();
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd ?? REPO,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'ignore', 'pipe', ...(options.extraStdio ?? []), 'ipc'],
    uid: options.uid,
    gid: options.gid,
  };
  const child = spawn(process.execPath, [SERVE_BIN, ...args], spawnOptions);
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => { stderr += data; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const ready = new Promise<ServeReady>((resolve, reject) => {
    child.on('message', (message: ServeReady) => { if (message?.type === 'gatehouse:ready') resolve(message); });
    void exited.then(({ code }) => reject(new Error(`serve exited (${code}) before ready; stderr:\n${stderr}`)));
  });
  ready.catch(() => {});
  return {
    child, ready, exited,
    stderr: () => stderr,
    dispose: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
