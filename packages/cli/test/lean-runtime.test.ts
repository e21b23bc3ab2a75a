/*
 * The isolates that run a Gateway app never load Node's fetch runtime (undici): reading the
 * global Response, Request or Headers compiles it, about 10 MiB of RSS in each process or app
 * thread (packages/core/src/gateway/adapters/native-fetch.ts). Checked where users see it: the
 * real `serve` bin under every engine, the app reporting from the isolate that runs it. A
 * fetch app must load it (the probe can tell).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO, ServeProcess } from './kit.js';

const APPS = path.join(REPO, 'packages/core/test/fixtures/apps');
const ENGINES: Record<string, string[]> = {
  single: ['--engine', 'single'],
  prefork: ['--engine', 'prefork', '--workers', '1'],
  threaded: ['--engine', 'threaded', '--threads', '1'],
  hybrid: ['--engine', 'hybrid', '--workers', '1', '--threads', '1'],
};

/** GET over node:http, so this test process's own fetch plays no part. */
async function report(url: string): Promise<{ undici: boolean }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    request(`${url}/`, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve(JSON.parse(body) as { undici: boolean }));
    }).on('error', reject).end();
  });
}

describe('the fetch runtime is loaded only for fetch apps', { timeout: 60_000 }, () => {
  for (const [engine, flags] of Object.entries(ENGINES)) {
    it(`${engine}: a Gateway app's isolate does not load undici; a fetch app's does`, async (t) => {
      const gateway = new ServeProcess([path.join(APPS, 'reports-runtime.js'), ...flags, '--bind', '127.0.0.1:0', '--log-level', 'warn']);
      t.after(() => gateway.dispose());
      const fetchApp = new ServeProcess([path.join(APPS, 'reports-runtime-fetch.js'), ...flags, '--bind', '127.0.0.1:0', '--log-level', 'warn']);
      t.after(() => fetchApp.dispose());
      assert.deepEqual(await report(await gateway.url), { undici: false });
      assert.deepEqual(await report(await fetchApp.url), { undici: true });
    });
  }
});
