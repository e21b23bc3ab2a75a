/*
 * Test helpers: start a threaded engine on 127.0.0.1:0 with some settings, stop it after the
 * test, wait for a condition without fixed sleeps.
 */
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultSettings, type Settings } from '@gatehouse/core';
import { until as pollUntil } from '@gatehouse/core/testkit';
import { ThreadedEngine } from '../../src/index.js';

export const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));

export async function startEngine(t: TestContext, overrides: Partial<Settings> = {}, app = fixture('app.mjs')): Promise<{ engine: ThreadedEngine; url: string }> {
  const settings: Settings = { ...defaultSettings(), bind: ['127.0.0.1:0'], threads: 2, gracefulTimeout: 5, ...overrides };
  const engine = new ThreadedEngine({ settings, app: { kind: 'module', spec: app } });
  await engine.start();
  t.after(() => engine.stop({ graceful: false }));
  return { engine, url: engine.addresses[0]!.url };
}

/** The test kit's bounded poll, with this package's default bound. */
export const until = (condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> => pollUntil(condition, timeoutMs, what);

export async function getJson<T = Record<string, unknown>>(url: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: T;
  try { body = JSON.parse(text) as T; } catch { body = text as unknown as T; }
  return { status: response.status, body, headers: response.headers };
}

export const inFlight = (engine: ThreadedEngine): number => engine.stats().units.reduce((sum, unit) => sum + unit.inFlight, 0);
