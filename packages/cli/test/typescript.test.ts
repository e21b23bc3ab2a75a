/*
 * A TypeScript app (a type annotation, an interface, a .ts module it imports) served through
 * the real `serve` bin under every engine with tsx registered the way users register it,
 * NODE_OPTIONS="--import tsx", from a project that has tsx in its node_modules. The loader has
 * to reach the single engine's loop, prefork's worker processes and the app threads of
 * threaded and hybrid. --check-config must agree with what the engine will do: without a
 * loader it fails with ERR_APP_TYPESCRIPT, with one it loads the app where the engine would.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, ServeProcess, runServe, tempDir } from './kit/index.js';

const GREET_TS = `export function greet(name: string): string {
  return \`hello \${name}\`;
}
`;

const APP_TS = `import { greet } from './greet.ts';

interface Reply { status: number; headers: Array<[string, string]>; body: string }

export default function app(request: { path: string }): Reply {
  const who: string = request.path.slice(1) || 'ts';
  return { status: 200, headers: [['content-type', 'text/plain']], body: greet(who) };
}
`;

const ENGINES: ReadonlyArray<{ engine: string; args: string[] }> = [
  { engine: 'single', args: [] },
  { engine: 'prefork', args: ['--workers', '1'] },
  { engine: 'threaded', args: ['--threads', '1'] },
  { engine: 'hybrid', args: ['--workers', '1', '--threads', '1'] },
];

const WITH_TSX = { NODE_OPTIONS: '--import tsx' };

/** A project directory holding the app, with tsx installed in its node_modules. */
function project(packageJson: object | null): string {
  const dir = tempDir({ 'app.ts': APP_TS, 'greet.ts': GREET_TS, ...(packageJson ? { 'package.json': JSON.stringify(packageJson) } : {}) });
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(path.join(REPO, 'packages/cli/node_modules/tsx'), path.join(dir, 'node_modules/tsx'), 'dir');
  return dir;
}

async function serveAndGet(dir: string, engineArgs: string[], t: { after(fn: () => unknown): void }): Promise<void> {
  const serve = new ServeProcess(['app.ts', ...engineArgs, '--bind', '127.0.0.1:0'], { cwd: dir, env: WITH_TSX });
  t.after(() => serve.dispose());
  await Promise.race([serve.ready, serve.exited.then(() => { throw new Error(`serve exited before ready: ${serve.stderr}`); })]);
  for (const name of ['ts', 'engine']) {
    const response = await fetch(`${await serve.url}/${name}`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), `hello ${name}`);
  }
}

describe('a TypeScript app with NODE_OPTIONS="--import tsx"', { timeout: 120_000 }, () => {
  for (const { engine, args } of ENGINES) {
    it(`is served under ${engine} (an ES module project)`, async (t) => {
      await serveAndGet(project({ type: 'module' }), ['--engine', engine, ...args], t);
    });
  }

  for (const engine of ['single', 'threaded']) {
    it(`is served under ${engine} from a project without "type": "module" (tsx compiles it to CommonJS)`, async (t) => {
      await serveAndGet(project(null), ['--engine', engine, ...ENGINES.find((e) => e.engine === engine)!.args], t);
    });
  }
});

describe('--check-config with a TypeScript app', { timeout: 120_000 }, () => {
  for (const { engine } of ENGINES) {
    it(`${engine}: without a loader, the ERR_APP_TYPESCRIPT line and exit 1`, async () => {
      const result = await runServe(['--check-config', 'app.ts', '--engine', engine], { cwd: project({ type: 'module' }) });
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /^serve: ERR_APP_TYPESCRIPT: Cannot load a TypeScript app directly: .*app\.ts\. .*NODE_OPTIONS="--import tsx"/);
      assert.equal(result.stderr.trim().split('\n').length, 1);
    });

    it(`${engine}: with --import tsx, ok and exit 0`, async () => {
      const result = await runServe(['--check-config', 'app.ts', '--engine', engine], { cwd: project({ type: 'module' }), env: WITH_TSX });
      assert.equal(result.code, 0, result.stderr);
      const inThread = engine === 'threaded' || engine === 'hybrid';
      assert.match(result.stdout, new RegExp(`^ok: settings are valid; app app\\.ts loads${inThread ? ' in an app thread' : ''} \\(gateway\\); engine ${engine}\\n$`));
    });
  }

  // A loader that registers itself on the main thread only (as tsx's own entry does): the app
  // loads in the master, yet an app thread could not load it, and the check must say so.
  const MAIN_THREAD_ONLY = `import { isMainThread } from 'node:worker_threads';
if (isMainThread) (await import('tsx/esm/api')).register();
`;
  for (const { engine } of ENGINES) {
    const inThread = engine === 'threaded' || engine === 'hybrid';
    it(`${engine}: a loader that reaches only the main thread ${inThread ? 'fails' : 'passes'} the check`, async () => {
      const dir = project({ type: 'module' });
      fs.writeFileSync(path.join(dir, 'main-only.mjs'), MAIN_THREAD_ONLY);
      const result = await runServe(['--check-config', 'app.ts', '--engine', engine], { cwd: dir, env: { NODE_OPTIONS: '--import ./main-only.mjs' } });
      if (inThread) {
        assert.equal(result.code, 1, result.stdout);
        assert.match(result.stderr, /^serve: ERR_APP_TYPESCRIPT: .*app\.ts/);
      } else {
        assert.equal(result.code, 0, result.stderr);
      }
    });
  }
});
