// The third-party engine in examples/engine-plugin, served the ways a user would: the whole
// engine parity suite through createServer() from @gatehouse/cli (the engine named by its
// path, resolved by the CLI's engine registry), and the real `serve` bin with
// `--engine ./examples/engine-plugin/engine.js`.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runParitySuite } from '../../packages/core/dist/test/kit/index.js';
import { createServer } from '../../packages/cli/dist/src/index.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ENGINE = path.join(REPO, 'examples/engine-plugin/engine.js');

runParitySuite('plugin: lanes', async (app, settings) => {
  const server = await createServer({ app, ...settings, engine: ENGINE, threads: 2, bind: ['127.0.0.1:0'] });
  const address = server.addresses[0];
  return { url: address.url, host: address.host, port: address.port, engine: server.engine, stop: (options) => server.close(options), reload: () => server.reload() };
}, { differences: ['reload-keeps-dependencies'] });

describe('plug-in engine through the real serve bin', { timeout: 30_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-plugin-cli-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serve --engine ./examples/engine-plugin/engine.js serves the app on every lane, and TERM stops it cleanly', async (t) => {
    // The parity fixture reports which unit (lane) answered and writes lifecycle markers.
    const fixtures = path.join(REPO, 'packages/core/test/fixtures/parity');
    for (const file of ['app.mjs', 'dep.mjs']) fs.copyFileSync(path.join(fixtures, file), path.join(dir, file));
    fs.mkdirSync(path.join(dir, 'state'));
    const child = spawn(process.execPath, [
      'packages/cli/bin/serve.js', path.join(dir, 'app.mjs'), '--engine', './examples/engine-plugin/engine.js', '--threads', '3', '--bind', '127.0.0.1:0', '--log-level', 'warn',
    ], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (data) => { stderr += data; });
    const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    const ready = await Promise.race([
      new Promise((resolve) => child.on('message', (message) => { if (message?.type === 'gatehouse:ready') resolve(message); })),
      exited.then((code) => { throw new Error(`serve exited with ${code} before ready: ${stderr}`); }),
    ]);
    assert.equal(ready.engine, 'lanes');
    // Connections are dealt to the 3 lanes in turn: 3 fresh connections meet 3 different units.
    const units = new Set();
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${ready.addresses[0]}/unit`, { headers: { connection: 'close' } });
      const unit = await response.json();
      assert.equal(unit.started, true);
      units.add(unit.unit);
    }
    assert.equal(units.size, 3);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    const files = fs.readdirSync(path.join(dir, 'state'));
    assert.equal(files.filter((f) => f.startsWith('startup-')).length, 3);
    assert.equal(files.filter((f) => f.startsWith('shutdown-')).length, 3, 'each lane ran shutdown() on TERM');
  });
});
