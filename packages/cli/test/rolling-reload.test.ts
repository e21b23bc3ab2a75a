/*
 * Reload strategies on real processes and threads, through the embedding API: under prefork,
 * threaded and hybrid, a rolling and a generation reload each serve continuous bounded load
 * with zero failed requests, every request sent after reload() resolved gets the new code,
 * and the number of units alive (the supervisor's view, sampled every 5 ms) shows the
 * difference: rolling never runs more than target + 1, generation boots a second set.
 * Then HUP through the `serve` bin: the config file is re-read, a restart-only setting is
 * named in one warning and kept, and an invalid config keeps the old one serving.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createServer, type GatehouseServer } from '../src/index.js';
import { HELLO_APP, ServeProcess, tempDir } from './kit/index.js';

const appSource = (version: string) =>
  `export default () => ({ status: 200, headers: [['content-type', 'text/plain']], body: '${version}' });\n`;

/** A kept-alive connection the server closed before it read the request: the request never reached the app. */
class ClosedIdle extends Error {}

/**
 * One GET on `agent`. The caller retries a ClosedIdle once, as RFC 9112 §9.3.1 allows for a
 * request that failed on a reused connection before any response byte (the server closing
 * an idle keep-alive connection races a client sending on it); any other error is a failure.
 */
function get(url: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.setTimeout(10_000, () => request.destroy(new Error('no response in 10 s')));
    request.on('error', (error: NodeJS.ErrnoException) => {
      reject(request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE') ? new ClosedIdle(error.code) : error);
    });
  });
}

/** Units alive as the supervisor sees them: booting, ready or draining, not yet exited. */
const alive = (server: GatehouseServer) => server.stats().units.filter((u) => u.state !== 'stopped').length;

const CASES = [
  { engine: 'prefork', sizing: { workers: 3 }, target: 3 },
  { engine: 'threaded', sizing: { threads: 3 }, target: 3 },
  { engine: 'hybrid', sizing: { workers: 3, threads: 1 }, target: 3 },
] as const;

for (const { engine, sizing, target } of CASES) {
  for (const strategy of ['rolling', 'generation'] as const) {
    describe(`${strategy} reload under ${engine}`, { timeout: 90_000 }, () => {
      it('zero failed requests under load, new code once reload() resolves, units alive bounded by the strategy', async () => {
        const dir = tempDir({ 'app.mjs': appSource('v1') });
        const file = path.join(dir, 'app.mjs');
        const server = await createServer({ app: file, engine, ...sizing, reload_strategy: strategy, bind: '127.0.0.1:0', log_level: 'silent' });
        const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
        let stop = false;
        let reloaded = false;
        let total = 0;
        let retried = 0;
        const failures: string[] = [];
        const after: string[] = [];
        const deadline = Date.now() + 60_000;
        try {
          const url = `${server.addresses[0]!.url}/`;
          const client = async () => {
            while (!stop && total < 20_000 && Date.now() < deadline) {
              const sentAfterReload = reloaded;
              total++;
              try {
                const { status, body } = await get(url, agent).catch((error: unknown) => {
                  if (!(error instanceof ClosedIdle)) throw error;
                  retried++;
                  return get(url, agent);
                });
                if (status !== 200) failures.push(`${status} ${body}`);
                else if (sentAfterReload) after.push(body);
              } catch (error) {
                failures.push(String(error));
              }
            }
          };
          const load = Promise.all([1, 2, 3, 4].map(client));
          while (total < 50 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
          let peak = alive(server);
          const sampler = setInterval(() => { peak = Math.max(peak, alive(server)); }, 5);
          fs.writeFileSync(file, appSource('v2'));
          try {
            await server.reload();
          } finally {
            clearInterval(sampler);
          }
          reloaded = true;
          while (after.length < 50 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
          stop = true;
          await load;
          assert.deepEqual(failures, [], `no request failed (of ${total}; ${retried} retried on a closed idle connection)`);
          assert.ok(after.length >= 50, `${after.length} requests after the reload`);
          assert.deepEqual([...new Set(after)], ['v2'], 'every request sent after reload() resolved got the new code');
          if (strategy === 'rolling') assert.ok(peak <= target + 1, `rolling: at most ${target + 1} units alive, saw ${peak}`);
          else assert.ok(peak >= 2 * target, `generation: a whole second generation boots, saw at most ${peak} units`);
          // A worker process is counted when it exits, which may come after reload() resolved (it quiesced first).
          while (server.stats().restarts.reload < target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
          assert.equal(server.stats().restarts.reload, target);
        } finally {
          stop = true;
          agent.destroy();
          await server.close({ graceful: false });
        }
      });
    });
  }
}

const HUP_CASES = [
  { engine: 'prefork', before: { workers: 1 }, after: { workers: 2 }, booting: /booting generation 2 \(2 workers, rolling/, up: /^process \d+ up/, units: 2 },
  { engine: 'threaded', before: { threads: 1 }, after: { threads: 2 }, booting: /booting generation 2 \(2 threads, rolling/, up: /^thread \d+ up/, units: 2 },
  { engine: 'hybrid', before: { workers: 1, threads: 1 }, after: { workers: 2, threads: 1 }, booting: /booting generation 2 \(2 workers, rolling/, up: /^process \d+ up/, units: 2 },
] as const;

for (const { engine, before, after, booting, up, units } of HUP_CASES) {
  describe(`HUP re-reads the config file under ${engine}`, { timeout: 60_000 }, () => {
    it('applies what can change, names and keeps what needs a restart, keeps serving on an invalid config', async (t) => {
      const dir = tempDir({ 'app.mjs': HELLO_APP, 'gatehouse.json': JSON.stringify({ ...before, backlog: 100 }) });
      const config = path.join(dir, 'gatehouse.json');
      const serve = new ServeProcess(['app.mjs', '--config', config, '--bind', '127.0.0.1:0', '--engine', engine], { cwd: dir });
      t.after(() => serve.dispose());
      const url = await serve.url;
      const ok = async () => {
        const response = await fetch(`${url}/x`);
        assert.equal(response.status, 200);
        assert.equal(await response.text(), 'hello /x');
      };
      await ok();

      fs.writeFileSync(config, JSON.stringify({ ...after, backlog: 200 }));
      let from = serve.records.length;
      serve.kill('SIGHUP');
      const reloaded = await serve.event('reloaded', from, 30_000);
      const lines = serve.records.slice(from, serve.records.indexOf(reloaded));
      const warnings = lines.filter((r) => r.event === 'reload-needs-restart');
      assert.equal(warnings.length, 1, 'one warning line');
      assert.match(warnings[0]!.msg, /--backlog \(200; running with 100\) cannot change without a restart/);
      assert.ok(lines.some((r) => booting.test(r.msg)), 'the new sizing applies to the new generation');
      await serve.until(`${units} new units up`, () => serve.records.slice(from).filter((r) => up.test(r.msg)).length >= units);
      await ok();

      for (const [what, text, pattern] of [
        ['a bad value', JSON.stringify({ workers: 'many' }), /workers = "many"/],
        ['a syntax error', '{ "workers": 2,', /gatehouse\.json/],
      ] as const) {
        fs.writeFileSync(config, text);
        from = serve.records.length;
        serve.kill('SIGHUP');
        const failed = await serve.event('reload-failed', from, 30_000);
        assert.match(failed.msg, /reload failed; the previous version keeps serving/, what);
        assert.match(failed.msg, pattern, what);
        assert.equal(serve.records.slice(from).filter((r) => r.level >= 50).length, 1, `${what}: one error line`);
        assert.ok(!serve.records.slice(from).some((r) => r.event === 'reloaded' || /booting generation/.test(r.msg)), `${what}: no new units`);
        await ok();
      }
    });
  });
}
