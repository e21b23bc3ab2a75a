/*
 * Test helpers: start a prefork engine on 127.0.0.1:0 (stopped after the test), wait for a
 * condition without fixed sleeps, and a bounded keep-alive load loop that records every
 * request's outcome.
 *
 * The load loop retries a GET once when it failed on a REUSED keep-alive connection before
 * any response byte arrived, with the error a closed idle connection gives (ECONNRESET or
 * EPIPE), as RFC 9112 §9.3.1 allows and as Node's docs advise (`request.reusedSocket`): a
 * server that closes an idle keep-alive connection races a client that is just sending on it,
 * and that request never reached the app. At most one retry per request; retries are counted
 * (`retried`). Anything else is a failure: a request that fails on a fresh connection, fails
 * twice, fails on a reused one with another error (a malformed response, a timeout), gets a
 * non-200 status or a truncated body.
 */
import type { TestContext } from 'node:test';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { channels, defaultSettings, type Settings, type UnitMessage } from '@gatehouse/core';
import { until as pollUntil } from '@gatehouse/core/testkit';
import { PreforkEngine } from '../../src/index.js';

export const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));

export async function startEngine(t: TestContext, overrides: Partial<Settings> = {}, app = fixture('app.mjs')): Promise<{ engine: PreforkEngine; url: string }> {
  const settings: Settings = { ...defaultSettings(), bind: ['127.0.0.1:0'], workers: 2, gracefulTimeout: 5, ...overrides };
  const engine = new PreforkEngine({ settings, app: { kind: 'module', spec: app } });
  t.after(() => engine.stop({ graceful: false }));
  await engine.start();
  return { engine, url: engine.addresses[0]!.url };
}

/** The test kit's bounded poll, with this package's default bound (processes start slower than threads). */
export const until = (condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> => pollUntil(condition, timeoutMs, what);

/** `requests`: how many requests the answering process had served, this one included (the app's own count). */
export interface Answer { readonly status: number; readonly version: string; readonly pid: number; readonly requests: number; readonly sentAt: number; readonly at: number }

/**
 * One GET on `agent`, or on a connection of its own when there is none (Node's global agent
 * keeps connections alive). Rejects on a transport error, with `reused` telling whether the
 * socket was a kept-alive one.
 */
export function get(url: string, agent: http.Agent | false = false): Promise<Answer> {
  const sentAt = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; });
      response.on('error', (error) => reject(Object.assign(error, { reused: false, started: true })));
      response.on('end', () => {
        let body: { version?: string; pid?: number; requests?: number } = {};
        try { body = JSON.parse(text) as typeof body; } catch { /* not our app's JSON: recorded as a bad answer */ }
        resolve({ status: response.statusCode ?? 0, version: body.version ?? `unparsable: ${text.slice(0, 40)}`, pid: body.pid ?? 0, requests: body.requests ?? 0, sentAt, at: performance.now() });
      });
    });
    request.on('error', (error) => reject(Object.assign(error, { reused: request.reusedSocket, started: false })));
  });
}

export interface LoadResult {
  readonly answers: Answer[];
  /** Transport failures and non-200 answers, with when they happened. */
  readonly failures: Array<{ readonly at: number; readonly error: string }>;
  /** GETs repeated once after a kept-alive connection closed before any response (see the header). */
  readonly retried: number;
}

export interface Load {
  stop(): Promise<LoadResult>;
  readonly result: LoadResult;
}

/** `concurrency` sequential keep-alive clients; bounded by `maxRequests` and `maxMs`, whichever comes first. */
/** The errors a kept-alive connection closed by the server before it read the request gives. */
const CLOSED_IDLE = new Set(['ECONNRESET', 'EPIPE']);

export function startLoad(url: string, options: { concurrency?: number; maxRequests?: number; maxMs?: number } = {}): Load {
  const concurrency = options.concurrency ?? 4;
  const maxRequests = options.maxRequests ?? 20_000;
  const deadline = performance.now() + (options.maxMs ?? 20_000);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const result: LoadResult = { answers: [], failures: [], retried: 0 };
  let stopped = false;
  let sent = 0;
  const once = async (): Promise<void> => {
    try {
      const answer = await get(url, agent);
      if (answer.status === 200) result.answers.push(answer);
      else result.failures.push({ at: answer.at, error: `status ${answer.status}` });
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { reused?: boolean; started?: boolean };
      if (e.reused && !e.started && CLOSED_IDLE.has(e.code ?? '')) {
        (result as { retried: number }).retried++;
        try {
          const answer = await get(url, agent);
          if (answer.status === 200) { result.answers.push(answer); return; }
          result.failures.push({ at: answer.at, error: `status ${answer.status} (after a retry)` });
        } catch (again) {
          result.failures.push({ at: performance.now(), error: `${(again as NodeJS.ErrnoException).code ?? (again as Error).message} (after a retry)` });
        }
        return;
      }
      result.failures.push({ at: performance.now(), error: e.code ?? e.message });
    }
  };
  const client = async (): Promise<void> => {
    while (!stopped && sent < maxRequests && performance.now() < deadline) {
      sent++;
      await once();
    }
  };
  const clients = Array.from({ length: concurrency }, () => client());
  return {
    result,
    async stop() {
      stopped = true;
      await Promise.all(clients);
      agent.destroy();
      return result;
    },
  };
}

/** Records unit up/down messages published in this process (the master's). */
export function watchUnits(t: TestContext): { up: UnitMessage[]; down: UnitMessage[] } {
  const seen = { up: [] as UnitMessage[], down: [] as UnitMessage[] };
  const onUp = (m: unknown) => seen.up.push(m as UnitMessage);
  const onDown = (m: unknown) => seen.down.push(m as UnitMessage);
  channels.unitUp.subscribe(onUp);
  channels.unitDown.subscribe(onDown);
  t.after(() => { channels.unitUp.unsubscribe(onUp); channels.unitDown.unsubscribe(onDown); });
  return seen;
}

export const readyPids = (engine: PreforkEngine): number[] => engine.stats().units.filter((u) => u.state === 'ready').map((u) => u.pid!);

export function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}
