/*
 * --sticky under any engine with more than one unit: every request from one client address
 * reaches one unit, on fresh connections and on a kept-alive one, several addresses spread
 * over more than one unit, and a crashed unit's replacement takes back exactly its
 * predecessor's clients while every other client keeps its unit.
 *
 *   import { runStickySuite } from '@gatehouse/core/testkit';
 *   runStickySuite('prefork', PreforkEngine, { workers: 2 }, { units: 2, readyUnits });
 *
 * Clients differ by source address: Linux routes all of 127/8 to lo, so 127.0.0.2, .3, ...
 * are distinct clients of a server on 127.0.0.1. The app answers its pid and threadId; a unit
 * is named `pid:threadId` (the main thread is 0, so a prefork worker is `pid:0`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { defaultSettings, type Settings } from '../../src/settings/table.js';
import type { Engine, EngineClass } from '../../src/engine/engine.js';
import { until } from './wait.js';

const APP = fileURLToPath(new URL('../../../test/fixtures/sticky/app.mjs', import.meta.url));
/** Enough addresses that two or four units each get some with any decent hash. */
const CLIENTS = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 2}`);
const PER_CLIENT = 3;

export interface StickySuiteOptions {
  /** Units the settings make (processes x threads). */
  readonly units: number;
  /** The ready units, each named `pid:threadId` as the app names itself. */
  readonly readyUnits: (engine: Engine) => string[];
}

interface Who { readonly pid: number; readonly threadId: number; readonly remote: string }

/** One GET from `localAddress`, on `agent`'s kept-alive connection or a fresh one. */
function ask(port: number, localAddress: string, agent: http.Agent | false, path = '/'): Promise<Who> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, localAddress, agent }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; });
      response.on('end', () => {
        if (response.statusCode !== 200) { reject(new Error(`status ${response.statusCode}: ${text}`)); return; }
        resolve(JSON.parse(text) as Who);
      });
    });
    request.on('error', reject);
  });
}

const unitOf = (who: Who): string => `${who.pid}:${who.threadId}`;

/** Every unit each client reached: PER_CLIENT requests on fresh connections, then PER_CLIENT on one kept-alive connection. */
async function survey(port: number): Promise<Map<string, Set<string>>> {
  const seen = new Map<string, Set<string>>();
  await Promise.all(CLIENTS.map(async (client) => {
    const units = new Set<string>();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < PER_CLIENT; i++) {
        const who = await ask(port, client, false);
        assert.equal(who.remote, client, 'the app sees the client\'s own address');
        units.add(unitOf(who));
      }
      for (let i = 0; i < PER_CLIENT; i++) units.add(unitOf(await ask(port, client, agent)));
    } finally {
      agent.destroy();
    }
    seen.set(client, units);
  }));
  return seen;
}

/** The one unit each client reached; fails naming any client that reached several. */
function stickyUnits(seen: Map<string, Set<string>>): Map<string, string> {
  const split = [...seen].filter(([, units]) => units.size !== 1).map(([client, units]) => `${client} -> ${[...units].join(', ')}`);
  assert.deepEqual(split, [], 'each client address reaches exactly one unit');
  return new Map([...seen].map(([client, units]) => [client, [...units][0]!]));
}

export function runStickySuite(name: string, engineClass: EngineClass, settings: Partial<Settings>, options: StickySuiteOptions): void {
  describe(`--sticky under ${name}`, { timeout: 120_000 }, () => {
    let engine: Engine;
    let port = 0;
    before(async () => {
      const all: Settings = { ...defaultSettings(), logLevel: 'fatal', gracefulTimeout: 2, ...settings, sticky: true, bind: ['127.0.0.1:0'] };
      engine = new engineClass({ settings: all, app: { kind: 'module', spec: APP } });
      await engine.start();
      port = engine.addresses[0]!.port!;
      await until(() => options.readyUnits(engine).length === options.units, 20_000, `${options.units} ready units`);
    });
    after(() => engine.stop({ graceful: false, timeout: 1 }));

    it('sends every request of one client address to one unit, and spreads the addresses over several units', async () => {
      const units = stickyUnits(await survey(port));
      const used = new Set(units.values());
      assert.ok(used.size > 1, `${CLIENTS.length} client addresses all reached one unit`);
      const ready = new Set(options.readyUnits(engine));
      for (const unit of used) assert.ok(ready.has(unit), `${unit} is one of the engine's ready units`);
    });

    it('gives a crashed unit\'s clients to its replacement, and every other client keeps its unit', async () => {
      const before = stickyUnits(await survey(port));
      const victim = before.get(CLIENTS[0]!)!;
      await ask(port, CLIENTS[0]!, false, '/crash').catch(() => { /* the unit died under the request */ });
      await until(() => {
        const ready = options.readyUnits(engine);
        return ready.length === options.units && !ready.includes(victim);
      }, 30_000, `a replacement for ${victim}`);
      const afterCrash = stickyUnits(await survey(port));
      const moved = new Set<string>();
      for (const [client, unit] of before) {
        if (unit === victim) moved.add(afterCrash.get(client)!);
        else assert.equal(afterCrash.get(client), unit, `${client} keeps its unit ${unit}`);
      }
      assert.equal(moved.size, 1, `the crashed unit's clients all go to one unit, not ${[...moved].join(', ')}`);
      const replacement = [...moved][0]!;
      assert.ok(!new Set(before.values()).has(replacement), `they go to the replacement, not to a unit that was there before (${replacement})`);
    });
  });
}
