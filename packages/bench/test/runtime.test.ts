// What an installed @gatehouse/bench starts with no repository around it: the runtime/ copy made
// at pack time (scripts/copy-runtime.mjs) must hold every built-in scenario's app and every
// peer script, with their relative imports resolving inside the copy. The installed run itself,
// through npx in a fresh npm project, is scripts/pack-check.mjs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PEER_NAMES } from '../src/options.js';
import { resolveServeBin } from '../src/plan.js';
import { SCENARIO_NAMES, builtInScenario, peerScript, repoRoot } from '../src/scenarios.js';

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const copy = mkdtempSync(join(tmpdir(), 'gatehouse-bench-runtime-'));
after(() => rmSync(copy, { recursive: true, force: true }));

test('the shipped runtime copy holds every scenario app and peer, and their imports resolve inside it', async () => {
  const { copyRuntime } = await import(pathToFileURL(join(PACKAGE_DIR, 'scripts', 'copy-runtime.mjs')).href) as { copyRuntime: (dest: string) => Promise<string[]> };
  const files = await copyRuntime(copy);
  assert.ok(files.length > 0);
  for (const name of SCENARIO_NAMES) {
    const scenario = builtInScenario(name, copy);
    assert.ok(scenario.app?.startsWith(copy + sep), `${name}: its app is in the copy, got ${scenario.app}`);
    const app = await import(pathToFileURL(scenario.app!).href) as { default: unknown };
    assert.equal(typeof app.default, 'function', `${name}: ${scenario.app} exports an app`);
    for (const peer of PEER_NAMES) {
      const script = peerScript(peer, scenario.peerWork!, copy);
      assert.ok(script?.startsWith(copy + sep), `${name}: ${peer} has a script in the copy`);
    }
  }
  // The peers' shared handlers import the scenarios' work module, which imports examples/cpu:
  // importing them (a peer script itself would listen) proves that chain inside the copy.
  const peers = join(dirname(peerScript('node-http', 'hello', copy)!), 'handlers.mjs');
  const { handlers } = await import(pathToFileURL(peers).href) as { handlers: Record<string, unknown> };
  for (const name of SCENARIO_NAMES.filter((n) => n !== 'close')) assert.equal(typeof handlers[name], 'function', `peer handler for ${name}`);
});

test('with no --serve-bin, engines start from the bin/serve.js of the @gatehouse/cli installed with the bench', () => {
  const bin = resolveServeBin(undefined, tmpdir());
  assert.equal(bin, join(repoRoot()!, 'packages', 'cli', 'bin', 'serve.js'));
  assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node/);
  assert.ok(existsSync(bin));
  assert.equal(resolveServeBin('tools/serve.js', '/srv/app'), '/srv/app/tools/serve.js');
});
