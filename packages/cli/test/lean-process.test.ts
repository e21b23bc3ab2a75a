/*
 * What the processes that serve requests load, recorded by a module load hook in each process
 * (fixtures/record-modules): the process that runs the app under `single` and a prefork
 * worker do not load the yargs framework (its usage layout, cliui, string widths, locales),
 * which only --help needs; a prefork worker loads no command-line parser and no engine
 * container (inversify + reflect-metadata) at all: the master resolved the settings and
 * composed the engine, and a worker gets plain settings. Module names, not figures: the
 * memory each costs is in docs/benchmarks.md.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, ServeProcess, getTextOverNodeHttp, tempDir } from './kit/index.js';

const FIXTURES = path.join(REPO, 'packages/cli/test/fixtures/record-modules');

/** Package names (as in node_modules/NAME/) among the URLs a process loaded. */
function packagesLoaded(dir: string, pid: number): Set<string> {
  const urls = fs.readFileSync(path.join(dir, String(pid)), 'utf8').split('\n');
  return new Set(urls.flatMap((url) => [...url.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1]!)));
}

async function servingPid(url: string): Promise<number> {
  return Number(await getTextOverNodeHttp(url));
}

function serve(t: TestContext, flags: string[]): { server: ServeProcess; dir: string } {
  const dir = tempDir();
  const server = new ServeProcess([path.join(FIXTURES, 'app.mjs'), ...flags, '--bind', '127.0.0.1:0', '--log-level', 'warn'], {
    env: { RECORD_MODULES_DIR: dir, NODE_OPTIONS: `--import ${path.join(FIXTURES, 'register.mjs')}` },
  });
  // The recorder writes into dir until the server has exited.
  t.after(async () => { await server.dispose(); fs.rmSync(dir, { recursive: true, force: true }); });
  return { server, dir };
}

const CLI_ONLY = ['yargs', 'cliui', 'y18n', 'string-width'];

describe('what the processes that serve requests load', { timeout: 60_000 }, () => {
  it('single: the process that parses the command line and runs the app loads the parser, not the yargs framework', async (t) => {
    const { server, dir } = serve(t, ['--engine', 'single']);
    const { pid } = await server.ready;
    assert.equal(await servingPid(await server.url), pid);
    const loaded = packagesLoaded(dir, pid);
    assert.ok(loaded.has('yargs-parser') && loaded.has('pino'), `the recorder sees the CLI's packages: ${[...loaded].join(', ')}`);
    for (const name of CLI_ONLY) assert.ok(!loaded.has(name), `single loaded ${name}`);
  });

  it('prefork: a worker loads no command-line parser and no engine container; the master composes', async (t) => {
    const { server, dir } = serve(t, ['--engine', 'prefork', '--workers', '1']);
    const { pid: master } = await server.ready;
    const worker = await servingPid(await server.url);
    assert.notEqual(worker, master);
    const masterLoaded = packagesLoaded(dir, master);
    assert.ok(masterLoaded.has('yargs-parser') && masterLoaded.has('inversify'), `the master parses and composes: ${[...masterLoaded].join(', ')}`);
    for (const name of CLI_ONLY) assert.ok(!masterLoaded.has(name), `the master loaded ${name}`);
    const workerLoaded = packagesLoaded(dir, worker);
    assert.ok(workerLoaded.has('pino'), `the recorder sees the worker's packages: ${[...workerLoaded].join(', ')}`);
    for (const name of [...CLI_ONLY, 'yargs-parser', 'inversify', 'reflect-metadata']) assert.ok(!workerLoaded.has(name), `the worker loaded ${name}`);
  });
});
