// Apps written to start their own server (PM2 and node:cluster style) under Gatehouse: the
// listen() they make while loading binds nothing, and loading fails with ERR_APP_LISTENS naming
// the call's file:line and the export to write instead. A server the app starts in startup()
// is its own business and binds. The real `serve` gives the hint as one line under every engine.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadApp } from '../../packages/core/dist/src/index.js';
import { ENGINES, serveForSuite } from './engines.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name) => fileURLToPath(new URL(`./fixtures/listens/${name}`, import.meta.url));

async function hintFor(file) {
  delete globalThis.listenedBy;
  const error = await loadApp({ kind: 'module', spec: file }).then(() => assert.fail('loading succeeded'), (e) => e);
  // Had anything bound, its listen callback would have run by now.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(globalThis.listenedBy, undefined, 'the app\'s server must not listen');
  assert.equal(error.code, 'ERR_APP_LISTENS', error.message);
  return error;
}

describe('an app that calls listen() while loading', { timeout: 30_000 }, () => {
  it('a PM2-style Express server.js (CommonJS, exports nothing): the hint names app.listen\'s line and the export to write', async () => {
    const file = fixture('express-server.cjs');
    const error = await hintFor(file);
    assert.match(error.message, new RegExp(`${file.replaceAll('.', '\\.')}:7 calls an Express app's app\\.listen\\(\\); export the Express app \\(export default app, or module\\.exports = app in CommonJS\\)`));
    assert.match(error.toLine(), /^ERR_APP_LISTENS: .*drop the listen\(\) call/);
  });

  it('await fastify.listen() at the top level (the import would never finish): the hint says to export the instance', async () => {
    const file = fixture('fastify-server.mjs');
    const error = await hintFor(file);
    assert.match(error.message, new RegExp(`fastify-server\\.mjs:7 calls fastify\\.listen\\(\\); export the Fastify instance \\(export default fastify\\)`));
  });

  it('NestJS\'s un-awaited bootstrap() listening after the import returned: the hint names Nest and the Express adapter route', async () => {
    const file = fixture('nest-main.mjs');
    const error = await hintFor(file);
    assert.match(error.message, /nest-main\.mjs:11 calls a NestJS app's listen\(\); export the Express app Nest runs on: NestFactory\.create\(AppModule, new ExpressAdapter\(expressApp\)\), await app\.init\(\), export default expressApp/);
  });

  it('node:http by hand, exporting the server: the hint names the request listener to export', async () => {
    const error = await hintFor(fixture('http-server.mjs'));
    assert.match(error.message, /http-server\.mjs:9 calls server\.listen\(\); export the request listener given to createServer \(function handler\): export default handler/);
  });

  it('listen() by anyone else in the process while an app loads binds as usual', async () => {
    const other = net.createServer();
    const loading = loadApp({ kind: 'module', spec: fixture('http-server.mjs') }, { cacheBust: 'again' }).catch((e) => e);
    await new Promise((resolve, reject) => other.once('error', reject).listen(0, '127.0.0.1', resolve));
    assert.ok(other.address().port > 0);
    other.close();
    assert.equal((await loading).code, 'ERR_APP_LISTENS');
  });
});

describe('a server the app starts in startup() binds', { timeout: 30_000 }, () => {
  for (const [name, Engine] of ENGINES) {
    describe(`under the ${name} engine`, () => {
      const served = serveForSuite(fixture('side-server.mjs'), Engine, { engine: name, workers: 1, threads: 1, gracefulTimeout: 2 });
      it('its own port answers beside the app', async () => {
        const text = await (await fetch(`${served.base}/`)).text();
        const port = Number(/side port (\d+)/.exec(text)?.[1]);
        const reply = await new Promise((resolve, reject) => {
          const socket = net.connect(port, '127.0.0.1');
          let data = '';
          socket.on('data', (chunk) => { data += chunk; }).on('end', () => resolve(data)).on('error', reject);
        });
        assert.equal(reply, 'side\n');
      });
    });
  }
});

describe('serve server.js (an Express app that listens itself): one line with the hint, non-zero exit, under every engine', { timeout: 120_000 }, () => {
  for (const [engine] of ENGINES) {
    it(engine, async () => {
      const { code, stdout, stderr } = await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['packages/cli/bin/serve.js', fixture('express-server.cjs'), '--engine', engine, '--workers', '2', '--threads', '2', '--bind', '127.0.0.1:0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
        const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`serve did not exit under ${engine}`)); }, 30_000);
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', (d) => { err += d; });
        child.on('close', (status) => { clearTimeout(timer); resolve({ code: status, stdout: out, stderr: err }); });
      });
      assert.notEqual(code, 0);
      assert.doesNotMatch(stdout, /LISTENING/);
      const lines = stderr.split('\n').filter((line) => /ERR_APP_/.test(line));
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], /ERR_APP_LISTENS: App module calls listen\(\) itself: .*express-server\.cjs:7 calls an Express app's app\.listen\(\); export the Express app/);
    });
  }
});
