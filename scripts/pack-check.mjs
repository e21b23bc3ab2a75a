#!/usr/bin/env node
// The packaging check: installs Gatehouse the way a user outside this repository would, and
// serves from the install. Each publishable package is packed with `pnpm pack` (which rewrites
// workspace ranges), every tarball's manifest is checked, then a fresh project in os.tmpdir()
// gets the tarballs with `npm install --omit=dev` (the same route as the Dockerfile's runtime
// stage) and must:
//   - answer a request through `npx serve app.js` and `npx gatehouse app.js`;
//   - answer through the Dockerfile's CMD and the systemd unit's and the Kubernetes manifest's
//     command lines, parsed from those files and run in the project (npm's layout), and the
//     last two again in this repository (pnpm's layout, where node_modules/.bin holds shell shims);
//   - embed: `import { createServer } from '@gatehouse/cli'` serves and answers;
//   - benchmark: `npx gatehouse bench app.js` (every installed engine and the node-http peer) and
//     `npx gatehouse-bench --scenario cpu` (the scenario's own app and the node-cluster peer, shipped
//     in @gatehouse/bench) exit 0 with the table and verdicts, for one short round with autocannon
//     (wrk is not needed); then every "how started" command of their reports, pasted into a shell in
//     the project, starts a server that answers.
// Servers bind 127.0.0.1:0; the port is read from their log (a pasted bench command reuses the
// port its report names, and is polled there). Any failure prints one line naming
// the step and exits 1. Usage: node scripts/pack-check.mjs [--keep] (the build must have run).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const PNPM = ['--yes', 'pnpm@10.34.8'];
const APP = `export default function app(request) {
  return { status: 200, headers: [['content-type', 'text/plain']], body: 'packed ' + request.path };
}
`;

class StepError extends Error {}

/** The error lines of a failed command's output, or its last lines. */
function lastWords(output) {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('Node.js v') && !l.startsWith('at '));
  const errors = lines.filter((l) => /error/i.test(l));
  return (errors.length ? errors : lines).slice(-2).join(' | ');
}
const fail = (step, why) => { throw new StepError(`${step}: ${why}`); };
const log = (line) => process.stderr.write(`pack-check: ${line}\n`);

function run(step, command, args, { timeoutMs = 60_000, ...options } = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.status !== 0) {
    fail(step, `\`${command} ${args.join(' ')}\` exited ${result.status ?? result.signal}: ${lastWords(`${result.stderr ?? ''}${result.stdout ?? ''}`)}`);
  }
  return result.stdout;
}

/** The publishable packages, read from each package.json under packages/. */
function packages() {
  return fs.readdirSync(path.join(REPO, 'packages'))
    .map((dir) => ({ manifest: JSON.parse(fs.readFileSync(path.join(REPO, 'packages', dir, 'package.json'), 'utf8')) }))
    .filter((p) => !p.manifest.private);
}

function pack(into) {
  run('pnpm pack', 'npx', [...PNPM, '--recursive', '--filter', './packages/*', 'pack', '--pack-destination', into], { cwd: REPO });
  return packages().map(({ manifest }) => {
    // pnpm's tarball name: the scope's @ dropped and its / turned into -.
    const tarball = path.join(into, `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`);
    if (!fs.existsSync(tarball)) fail(`pack ${manifest.name}`, `no ${path.basename(tarball)} in the pack output`);
    checkTarball(manifest.name, tarball);
    return tarball;
  });
}

/** What a published manifest must hold, read from inside the tarball. */
function checkTarball(name, tarball) {
  const step = `tarball ${name}`;
  const listing = run(step, 'tar', ['-tzf', tarball]).split('\n');
  if (!listing.includes('package/LICENSE')) fail(step, 'has no LICENSE');
  if (listing.some((f) => /\.test\.(js|d\.ts)$/.test(f))) fail(step, 'ships test files');
  const manifest = JSON.parse(run(step, 'tar', ['-xOzf', tarball, 'package/package.json']));
  for (const field of ['name', 'version', 'description', 'license', 'exports', 'files', 'engines', 'repository', 'keywords']) {
    if (manifest[field] === undefined) fail(step, `package.json has no "${field}"`);
  }
  for (const [key, target] of Object.entries(manifest.exports)) {
    if (key !== './package.json' && !target.types) fail(step, `exports "${key}" has no types`);
  }
  for (const kind of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(manifest[kind] ?? {})) {
      if (String(range).startsWith('workspace:')) fail(step, `${kind}.${dep} is still "${range}": pack with pnpm, which rewrites it`);
    }
  }
}

/**
 * Starts COMMAND in its own process group and resolves with the base URL once it logs one or,
 * for a server that logs no address, once BASE (when given) answers a request.
 */
function serve(step, command, args, { cwd, env = {}, base: knownBase }) {
  const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try { process.kill(-child.pid, 'SIGTERM'); } catch { return; }
    const killer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 10_000);
    await exited;
    clearTimeout(killer);
  };
  const base = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new StepError(`${step}: no address logged within 30 s; output: ${output.trim().slice(-300)}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match && match[1] !== '0') { clearTimeout(timer); resolve(match[0]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => { clearTimeout(timer); reject(new StepError(`${step}: cannot start ${command}: ${error.message}`)); });
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new StepError(`${step}: exited ${code ?? signal} before serving: ${lastWords(output)}`)); });
    if (knownBase) {
      const poll = () => fetch(knownBase, { signal: AbortSignal.timeout(1000) }).then(
        () => { clearTimeout(timer); resolve(knownBase); },
        () => { if (child.exitCode === null && child.signalCode === null) setTimeout(poll, 100); },
      );
      poll();
    }
  });
  return { base, stop };
}

async function expectAnswer(step, base, path = '/probe') {
  const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) }).catch((e) => fail(step, `GET ${path}: ${e.message}`));
  const text = await response.text();
  if (response.status !== 200 || text !== `packed ${path}`) fail(step, `GET ${path} answered ${response.status} ${JSON.stringify(text.slice(0, 80))}`);
}

async function serveAndAsk(step, command, args, options) {
  const server = serve(step, command, args, options);
  try {
    await expectAnswer(step, await server.base);
  } finally {
    await server.stop();
  }
  log(`ok: ${step}`);
}

/** The argv of a line in a systemd unit: `Key=...`, split on spaces (the shipped unit quotes nothing). */
function unitLine(file, key) {
  const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${key}=`));
  if (!line) fail(`read ${path.relative(REPO, file)}`, `no ${key}= line`);
  return line.slice(key.length + 1).trim().split(/\s+/);
}

/** The `command` + `args` of the manifest's first container (flow or block YAML lists of plain strings). */
function manifestCommand(file) {
  const text = fs.readFileSync(file, 'utf8');
  const command = /^\s*command:\s*(\[.*\])\s*$/m.exec(text);
  if (!command) fail(`read ${path.relative(REPO, file)}`, 'no command: [...] line');
  const args = [];
  const block = /^(\s*)args:\s*\n((?:\1\s*-.*\n)+)/m.exec(text);
  for (const line of block ? block[2].split('\n') : []) {
    const item = /^\s*-\s*("[^"]*"|[^#\s]+)/.exec(line);
    if (item) args.push(item[1].replace(/^"|"$/g, ''));
  }
  return [...JSON.parse(command[1]), ...args];
}

/** The Dockerfile's exec-form CMD. */
function dockerCmd(file) {
  const match = /^CMD\s+(\[.*\])\s*$/m.exec(fs.readFileSync(file, 'utf8'));
  if (!match) fail('read Dockerfile', 'no exec-form CMD ["..."] line');
  return JSON.parse(match[1]);
}

/**
 * Adapts a deployment command line to a test run: listen on 127.0.0.1:0 instead of the
 * deployment's address or socket activation, as the current user, one worker, no stop delay.
 */
function forTest(argv) {
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (['--user', '--group', '--bind', '-b', '--workers', '-w', '--stop-delay'].includes(arg)) { i++; continue; }
    if (/^--(user|group|bind|workers|stop-delay)=/.test(arg)) continue;
    out.push(arg);
  }
  return [...out, '--bind', '127.0.0.1:0'];
}

async function embed(step, project) {
  const script = `import { createServer } from '@gatehouse/cli';
const server = await createServer({ app: './app.js', engine: 'single', bind: ['127.0.0.1:0'] });
console.log('embedded at ' + server.addresses[0].url);
await new Promise((resolve) => process.once('SIGTERM', resolve));
await server.close({ graceful: true });
`;
  fs.writeFileSync(path.join(project, 'embed.mjs'), script);
  await serveAndAsk(step, process.execPath, ['embed.mjs'], { cwd: project });
}

export async function packCheck({ keep = false } = {}) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-pack-check-'));
  const started = Date.now();
  try {
    const tarballDir = path.join(work, 'tarballs');
    fs.mkdirSync(tarballDir);
    const tarballs = pack(tarballDir);
    log(`ok: packed ${tarballs.length} packages (${Math.round((Date.now() - started) / 1000)} s)`);

    const project = path.join(work, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'pack-check-app', private: true, type: 'module' }, null, 2));
    fs.writeFileSync(path.join(project, 'app.js'), APP);
    run('npm install', 'npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], { cwd: project, timeoutMs: 80_000 });
    log(`ok: npm install of the tarballs (${Math.round((Date.now() - started) / 1000)} s)`);

    // npx puts the project's node_modules/.bin first, so these are ours and not another `serve`.
    await serveAndAsk('npx serve app.js', 'npx', ['--no-install', 'serve', 'app.js', '--bind', '127.0.0.1:0'], { cwd: project });
    await serveAndAsk('npx gatehouse app.js', 'npx', ['--no-install', 'gatehouse', 'app.js', '--bind', '127.0.0.1:0'], { cwd: project });

    // The Dockerfile's runtime stage is this project: WORKDIR with the tarballs installed, the
    // app copied in, node_modules/.bin on PATH.
    const [cmd, ...cmdArgs] = forTest(dockerCmd(path.join(REPO, 'Dockerfile')));
    const binPath = `${path.join(project, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}`;
    await serveAndAsk('Dockerfile CMD', cmd, cmdArgs, { cwd: project, env: { PATH: binPath } });

    const [k8sCommand, ...k8sArgs] = forTest(manifestCommand(path.join(REPO, 'deploy/kubernetes/deployment.yaml')));
    await serveAndAsk('Kubernetes command (npm install)', k8sCommand, k8sArgs, { cwd: project });
    const appInProject = (arg) => arg === 'app.js' ? path.join(project, 'app.js') : arg;
    await serveAndAsk('Kubernetes command (pnpm install of this repository)', k8sCommand, k8sArgs.map(appInProject), { cwd: REPO });

    await serveUnit('systemd ExecStart (npm install)', project);
    await serveUnit('systemd ExecStart (pnpm install of this repository)', REPO, appInProject);

    await embed("import { createServer } from '@gatehouse/cli'", project);

    await benchAndPaste('npx gatehouse bench app.js', project, ['gatehouse', 'bench', 'app.js', '--peers', 'node-http', '--out', 'bench-app'], ['prefork', 'threaded', 'hybrid', 'node-http']);
    await benchAndPaste('npx gatehouse-bench --scenario cpu', project, ['gatehouse-bench', '--scenario', 'cpu', '--engines', 'single', '--peers', 'node-cluster', '--workers', '1', '--out', 'bench-cpu'], ['single', 'node-cluster']);
    log(`passed in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    if (keep) log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The shortest bench a user can run: one round of one second, no warm-up, few connections. */
const SHORTEST_BENCH = ['--duration', '1', '--rounds', '1', '--warmup', '0', '--connections', '4', '--loadgen', 'autocannon'];

/**
 * Runs a bench in the project through npx, checks it measured TARGETS and printed the table and
 * the verdicts, then pastes each target's "how started" command (from report.json, as the
 * report shows it) into sh in the project and asks the server it starts for the scenario's path.
 */
async function benchAndPaste(step, project, args, targets) {
  const stdout = run(step, 'npx', ['--no-install', ...args, ...SHORTEST_BENCH], { cwd: project, timeoutMs: 90_000 });
  if (!/^target +procs x thr +req\/s/m.test(stdout)) fail(step, `printed no table: ${stdout.trim().slice(0, 300)}`);
  if (!/^Verdicts\./m.test(stdout)) fail(step, `printed no verdicts: ${stdout.trim().slice(0, 300)}`);
  const out = args[args.indexOf('--out') + 1];
  const report = JSON.parse(fs.readFileSync(path.join(project, out, 'report.json'), 'utf8'));
  const measured = report.targets.filter((t) => t.status === 'ok').map((t) => t.name);
  if (measured.join(',') !== targets.join(',')) {
    const why = report.targets.filter((t) => t.status !== 'ok').map((t) => `${t.name} ${t.status}: ${t.error}`).join('; ');
    fail(step, `measured ${measured.join(', ') || 'nothing'}, expected ${targets.join(', ')}${why ? ` (${why})` : ''}`);
  }
  log(`ok: ${step}`);

  const probe = report.scenario.requests[0].path;
  for (const target of report.targets) {
    const port = /(?:127\.0\.0\.1:|PORT=)(\d+)/.exec(target.command)?.[1];
    const paste = `${step}: pasted ${target.name} command`;
    if (!port) fail(paste, `no port in \`${target.command}\``);
    const base = `http://127.0.0.1:${port}`;
    const server = serve(paste, 'sh', ['-c', target.command], { cwd: project, base });
    try {
      await server.base;
      const response = await fetch(`${base}${probe}`, { signal: AbortSignal.timeout(10_000) }).catch((e) => fail(paste, `GET ${probe}: ${e.message}`));
      await response.arrayBuffer();
      if (response.status !== 200) fail(paste, `\`${target.command}\` answered GET ${probe} with ${response.status}`);
    } finally {
      await server.stop();
    }
  }
  log(`ok: ${step}: how-started commands`);
}

/** The unit's ExecStart with its WorkingDirectory (/srv/app) replaced by DIR. */
async function serveUnit(step, dir, mapArg = (arg) => arg) {
  const unit = path.join(REPO, 'deploy/systemd/gatehouse.service');
  const [workingDirectory] = unitLine(unit, 'WorkingDirectory');
  const argv = unitLine(unit, 'ExecStart').map((arg) => arg.startsWith(workingDirectory) ? dir + arg.slice(workingDirectory.length) : mapArg(arg));
  // The unit names the absolute node of a system install; here, the node running this check.
  if (path.basename(argv[0]) === 'node') argv[0] = process.execPath;
  const [command, ...args] = forTest(argv);
  await serveAndAsk(step, command, args, { cwd: dir });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  packCheck({ keep: process.argv.includes('--keep') }).catch((error) => {
    console.error(`pack-check: ${error instanceof StepError ? error.message : error.stack}`);
    process.exit(1);
  });
}
