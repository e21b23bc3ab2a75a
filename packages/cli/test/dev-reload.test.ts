/*
 * --reload as an editor drives it, under every engine: a real `serve --reload` process, its
 * app's files changed the ways editors change them (written in place; written to a temp file
 * renamed over the original, as sed -i, vim and VS Code do; a new file the app then imports),
 * and real HTTP asking which code answers. Also: six saves a second apart all served, a burst
 * of writes is one reload, a syntax error keeps the previous code until the next good save,
 * ignored paths do not reload, and --reload-extra-file does.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServeProcess, tempDir, type LogRecord } from './kit/index.js';

const ENGINES: Record<string, string[]> = {
  single: ['--engine', 'single'],
  prefork: ['--engine', 'prefork', '--workers', '1'],
  threaded: ['--engine', 'threaded', '--threads', '1'],
  hybrid: ['--engine', 'hybrid', '--workers', '1', '--threads', '1'],
};

/** An app whose response names its version and the text of the extra file, read when it loads. */
function app(version: string, imports = ''): string {
  return `import fs from 'node:fs';\n${imports}\nconst extra = fs.readFileSync(new URL('../extra.txt', import.meta.url), 'utf8').trim();\n`
    + `export default () => ({ status: 200, body: ${JSON.stringify(version)}${imports ? " + ' ' + part" : ''} + ' / ' + extra });\n`;
}

/** Like sed -i and most editors: a temp file in the same directory, renamed over the original. */
function atomicWrite(file: string, text: string): void {
  const temp = path.join(path.dirname(file), `sed${Math.random().toString(36).slice(2, 8)}`);
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}

async function text(url: string): Promise<string> {
  const response = await fetch(url, { headers: { connection: 'close' } });
  return response.text();
}

/** Polls (bounded) until the server answers `expected`: the reload it waits for may take a while on a busy machine. */
async function serves(url: string, expected: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await text(url).catch((error: Error) => `(${error.message})`);
    if (last === expected) return;
    await sleep(100);
  }
  assert.fail(`the server never answered ${JSON.stringify(expected)}; it last said ${JSON.stringify(last)}`);
}

const changes = (records: readonly LogRecord[], from: number): LogRecord[] => records.slice(from).filter((r) => r.event === 'change');

for (const [engine, flags] of Object.entries(ENGINES)) {
  describe(`--reload under ${engine}`, { timeout: 240_000 }, () => {
    it('follows in-place writes, atomic renames and new files; keeps the old code through a syntax error; honours ignores and extra files', async (t) => {
      const root = tempDir({ 'extra.txt': 'extra-1\n' });
      const dir = path.join(root, 'site');
      fs.mkdirSync(dir);
      const entry = path.join(dir, 'app.js');
      fs.writeFileSync(entry, app('v1'));
      const serve = new ServeProcess(['site/app.js', ...flags, '--bind', '127.0.0.1:0', '--reload',
        '--reload-extra-file', 'extra.txt', '--reload-ignore', 'scratch/**', '--reload-ignore', '*.log'], { cwd: root });
      t.after(() => serve.dispose());
      const url = await serve.url;
      assert.equal(await text(url), 'v1 / extra-1');

      // In place (truncate and write the same inode).
      fs.writeFileSync(entry, app('v2'));
      await serves(url, 'v2 / extra-1');

      // Atomic save: the watched inode is replaced.
      atomicWrite(entry, app('v3'));
      await serves(url, 'v3 / extra-1');

      // A file that did not exist at start, then imported by the app.
      fs.mkdirSync(path.join(dir, 'lib'));
      fs.writeFileSync(path.join(dir, 'lib', 'part.js'), 'export const part = "part-1";\n');
      atomicWrite(entry, app('v4', "import { part } from './lib/part.js';"));
      await serves(url, 'v4 part-1 / extra-1');

      // Six saves about a second apart, alternating in place and atomic: every one is served.
      // (The single engine re-imports only the entry module, so there the entry is edited.)
      let last = Date.now();
      for (let i = 1; i <= 6; i++) {
        await sleep(Math.max(0, 1000 - (Date.now() - last)));
        last = Date.now();
        const write = i % 2 === 0 ? fs.writeFileSync : atomicWrite;
        if (engine === 'single') write(entry, app(`v5.${i}`, "import { part } from './lib/part.js';"));
        else write(path.join(dir, 'lib', 'part.js'), `export const part = "part-${i + 1}";\n`);
        await serves(url, engine === 'single' ? `v5.${i} part-1 / extra-1` : `v4 part-${i + 1} / extra-1`);
      }

      // A burst of writes is one reload, of the last version.
      let from = serve.records.length;
      for (let i = 0; i < 3; i++) fs.writeFileSync(entry, app(`v6.${i}`));
      await serves(url, 'v6.2 / extra-1');
      await serve.event('reloaded', from);
      assert.equal(changes(serve.records, from).length, 1, 'one change record for the burst');

      // A syntax error: logged once, the previous code keeps serving; the next good save reloads.
      from = serve.records.length;
      atomicWrite(entry, 'export default () => ({ status: 200, body: "broken" );\n');
      const failed = await serve.event('reload-failed', from, 30_000);
      assert.match(failed.msg, /previous version keeps serving/);
      assert.match(failed.msg, /app\.js/, 'the log line names the file with the error');
      assert.equal(await text(url), 'v6.2 / extra-1');
      atomicWrite(entry, app('v7'));
      await serves(url, 'v7 / extra-1');

      // Ignored paths: --reload-ignore globs, node_modules, dot-files. Then a watched file, so the
      // watcher is shown alive and the ignored writes, seen before it, made no change record.
      from = serve.records.length;
      fs.mkdirSync(path.join(dir, 'scratch'));
      fs.writeFileSync(path.join(dir, 'scratch', 'notes.js'), 'x\n');
      fs.writeFileSync(path.join(dir, 'lib', 'debug.log'), 'x\n');
      fs.mkdirSync(path.join(dir, 'node_modules', 'dep'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'node_modules', 'dep', 'index.js'), 'x\n');
      fs.writeFileSync(path.join(dir, '.env'), 'x\n');
      await sleep(1000);
      fs.writeFileSync(path.join(dir, 'README.md'), 'watched\n');
      const change = await serve.event('change', from);
      assert.deepEqual(change.files, [path.join(dir, 'README.md')]);
      await serve.event('reloaded', from, 30_000);
      assert.equal(await text(url), 'v7 / extra-1');
      assert.equal(changes(serve.records, from).length, 1);

      // --reload-extra-file, outside the app's directory.
      atomicWrite(path.join(root, 'extra.txt'), 'extra-2\n');
      await serves(url, 'v7 / extra-2');
    });
  });
}
