// The packaging check (scripts/pack-check.mjs) as part of the test run, so CI's summary counts
// it: the packages packed, installed with npm into a project outside the repository, served
// through npx serve / npx gatehouse, the Dockerfile's CMD, the systemd unit's and the Kubernetes
// manifest's command lines, embedded with createServer, and benchmarked with `serve bench` (whose
// how-started commands are pasted and must serve). Needs the registry for the
// packages' third-party dependencies (npm's cache makes later runs quicker).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../pack-check.mjs', import.meta.url));

it('installs from the packed tarballs with npm outside the repository and serves from the install', { timeout: 240_000 }, async () => {
  const child = spawn(process.execPath, [SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0, output);
  for (const step of ['npx serve app.js', 'npx gatehouse app.js', 'Dockerfile CMD', 'Kubernetes command (npm install)', 'Kubernetes command (pnpm install of this repository)', 'systemd ExecStart (npm install)', 'systemd ExecStart (pnpm install of this repository)', "import { createServer } from '@gatehouse/cli'",
    'npx gatehouse bench app.js', 'npx gatehouse bench app.js: how-started commands',
    'npx gatehouse-bench --scenario cpu', 'npx gatehouse-bench --scenario cpu: how-started commands']) {
    assert.match(output, new RegExp(`ok: ${step.replace(/[()[\]{}.*+?^$|\\]/g, '\\$&')}\\n`), `step "${step}" did not pass:\n${output}`);
  }
});
