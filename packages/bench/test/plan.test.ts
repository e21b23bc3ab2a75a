// How each target is started, as shown to the user: commands they can paste where they ran the
// bench (a project of their own, not this repository).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planBench } from '../src/plan.js';

const project = mkdtempSync(join(tmpdir(), 'gatehouse-bench-plan-'));
after(() => rmSync(project, { recursive: true, force: true }));
mkdirSync(join(project, 'src'));
writeFileSync(join(project, 'src', 'app.js'), 'export default () => ({ status: 200, headers: [], body: "hi" });\n');

test('engines are started as `npx gatehouse APP ...` with APP as given relative to where the bench ran', () => {
  const plan = planBench({ app: 'src/app.js', cwd: project, engines: ['prefork', 'hybrid'], workers: 2, threads: 3 });
  assert.deepEqual(plan.targets.map((t) => t.shown), [
    ['npx', 'gatehouse', 'src/app.js', '--engine', 'prefork', '--workers', '2'],
    ['npx', 'gatehouse', 'src/app.js', '--engine', 'hybrid', '--workers', '2', '--threads', '3'],
  ]);
});

test('an app outside the working directory is shown by its absolute path; --serve-bin is shown as node SCRIPT', () => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'gatehouse-bench-cwd-'));
  after(() => rmSync(elsewhere, { recursive: true, force: true }));
  const app = join(project, 'src', 'app.js');
  const plan = planBench({ app, cwd: elsewhere, engines: ['single'], serveBin: join(project, 'bin', 'serve.js') });
  assert.deepEqual(plan.targets[0]!.shown, ['node', join(project, 'bin', 'serve.js'), app, '--engine', 'single']);
});
