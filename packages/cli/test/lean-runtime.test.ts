/*
 * The isolates that run a Gateway app never load Node's fetch runtime (undici): reading the
 * global Response, Request or Headers compiles it, about 10 MiB of RSS in each process or app
 * thread (packages/core/src/gateway/adapters/native-fetch.ts). Checked where users see it: the
 * real `serve` bin under every engine, the app reporting from the isolate that runs it. A
 * fetch app must load it (the probe can tell). Likewise a worker process or app thread does
 * not load the engine container (inversify + reflect-metadata): only the process that runs the
 * CLI needs it, which under `single` is also the app's. Nor does any of them load prom-client
 * without --metrics-bind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO, ServeProcess, getTextOverNodeHttp } from './kit/index.js';

const APPS = path.join(REPO, 'packages/core/test/fixtures/apps');
const ENGINES: Record<string, { flags: string[]; container: boolean }> = {
  single: { flags: ['--engine', 'single'], container: true },
  prefork: { flags: ['--engine', 'prefork', '--workers', '1'], container: false },
  threaded: { flags: ['--engine', 'threaded', '--threads', '1'], container: false },
  hybrid: { flags: ['--engine', 'hybrid', '--workers', '1', '--threads', '1'], container: false },
};

interface Report { undici: boolean; container?: boolean; metrics?: boolean }

async function report(url: string): Promise<Report> {
  return JSON.parse(await getTextOverNodeHttp(url)) as Report;
}

describe('the fetch runtime is loaded only for fetch apps', { timeout: 60_000 }, () => {
  for (const [engine, { flags, container }] of Object.entries(ENGINES)) {
    it(`${engine}: a Gateway app's isolate does not load undici${container ? '' : ' or the engine container'}; a fetch app's loads undici`, async (t) => {
      const gateway = new ServeProcess([path.join(APPS, 'reports-runtime.js'), ...flags, '--bind', '127.0.0.1:0', '--log-level', 'warn']);
      t.after(() => gateway.dispose());
      const fetchApp = new ServeProcess([path.join(APPS, 'reports-runtime-fetch.js'), ...flags, '--bind', '127.0.0.1:0', '--log-level', 'warn']);
      t.after(() => fetchApp.dispose());
      assert.deepEqual(await report(await gateway.url), { undici: false, container, metrics: false });
      assert.deepEqual(await report(await fetchApp.url), { undici: true });
    });
  }
});

describe('prom-client is loaded only with --metrics-bind', { timeout: 60_000 }, () => {
  it('single: the server process loads it once --metrics-bind asks for the endpoint (the probe can tell)', async (t) => {
    const server = new ServeProcess([path.join(APPS, 'reports-runtime.js'), '--engine', 'single', '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--log-level', 'warn']);
    t.after(() => server.dispose());
    assert.equal((await report(await server.url)).metrics, true);
  });
});
