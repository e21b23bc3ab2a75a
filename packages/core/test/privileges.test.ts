/*
 * --user / --group / --umask with the real `serve` bin. Switching user needs root: run as
 * root (as here), these start serve as root and check that the app runs as `nobody` while
 * the prefork master stays root, that a root-only TLS key still works, and that the Unix
 * socket belongs to the new user and group. As another user they are skipped, saying why.
 * The error paths (an unknown user, a non-root server asked to switch) run either way.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { makeCertificate, writeCertificate } from './kit/certs.js';
import { PREFORK_ENGINE, spawnServe } from './kit/serve-bin.js';

const IS_ROOT = process.getuid?.() === 0;
const NEEDS_ROOT = IS_ROOT ? false : 'switching user needs root; run the suite as root to cover it';

/** Reports who it runs as now, and who it ran as when imported and in startup(). */
const APP = `const importedAs = process.getuid();
let startupAs = null;
export function startup() { startupAs = process.getuid(); }
export default () => ({
  status: 200,
  headers: [['content-type', 'application/json']],
  body: JSON.stringify({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), pid: process.pid, ppid: process.ppid, importedAs, startupAs }),
});
`;

interface Seen { uid: number; gid: number; groups: number[]; pid: number; ppid: number; importedAs: number; startupAs: number }

/** A dir (and app) that `nobody` can read, as a real deployment's app directory must be. */
function appDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-priv-'));
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'app.mjs'), APP, { mode: 0o644 });
  return dir;
}

function getJson(options: https.RequestOptions, secure = false): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request({ ...options, agent: false, path: '/' }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => { try { resolve(JSON.parse(body) as Seen); } catch (error) { reject(new Error(`${response.statusCode} ${body}`)); } });
    });
    request.on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error('timed out')));
    request.end();
  });
}

function uidOf(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'))!;
  return Number(line.split(/\s+/)[1]);
}

describe('--user / --group / --umask', { timeout: 60_000 }, () => {
  it('prefork: workers run as nobody:nogroup, the master stays root, the socket file is theirs', { skip: NEEDS_ROOT }, async (t) => {
    const dir = appDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const socketPath = path.join(dir, 'app.sock');
    const serve = spawnServe(['app.mjs', '--engine', PREFORK_ENGINE, '--workers', '1', '--user', 'nobody', '--group', 'nogroup', '--bind', `unix:${socketPath}`], { cwd: dir });
    t.after(() => serve.dispose());
    await serve.ready;
    const seen = await getJson({ socketPath });
    assert.equal(seen.uid, 65534);
    assert.equal(seen.gid, 65534);
    assert.deepEqual(seen.groups, [65534], 'no root supplementary group is left');
    assert.equal(seen.ppid, serve.child.pid, 'answered by a worker of this master');
    assert.equal(uidOf(serve.child.pid!), 0, 'the master is still root');
    const stat = fs.statSync(socketPath);
    assert.equal(stat.uid, 65534);
    assert.equal(stat.gid, 65534);
    assert.equal(stat.mode & 0o777, 0o660);
    serve.child.kill('SIGTERM');
    assert.deepEqual(await serve.exited, { code: 0, signal: null });
    assert.equal(fs.existsSync(socketPath), false, 'the root master removed the socket file');
  });

  it('a TLS key only root can read still serves HTTPS after the switch', { skip: NEEDS_ROOT }, async (t) => {
    const dir = appDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const certificate = makeCertificate();
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-rootkey-'));
    t.after(() => fs.rmSync(keyDir, { recursive: true, force: true }));
    const files = writeCertificate(certificate, keyDir); // dir 0700, key 0600, owned by root
    const serve = spawnServe(['app.mjs', '--engine', PREFORK_ENGINE, '--workers', '1', '--user', 'nobody', '--bind', '127.0.0.1:0', '--certfile', files.certfile, '--keyfile', files.keyfile], { cwd: dir });
    t.after(() => serve.dispose());
    const ready = await serve.ready;
    const port = Number(new URL(ready.addresses[0]!).port);
    assert.equal(new URL(ready.addresses[0]!).protocol, 'https:');
    const seen = await getJson({ host: '127.0.0.1', port, ca: certificate.cert, servername: 'localhost' }, true);
    assert.equal(seen.uid, 65534);
  });

  it('single: the one process switches to nobody after binding, before it imports the app', { skip: NEEDS_ROOT }, async (t) => {
    const dir = appDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const serve = spawnServe(['app.mjs', '--engine', 'single', '--user', 'nobody', '--bind', '127.0.0.1:0'], { cwd: dir });
    t.after(() => serve.dispose());
    const ready = await serve.ready;
    const seen = await getJson({ host: '127.0.0.1', port: Number(new URL(ready.addresses[0]!).port) });
    assert.equal(seen.pid, serve.child.pid);
    assert.equal(seen.uid, 65534);
    assert.equal(seen.importedAs, 65534, 'the app module was imported as nobody');
    assert.equal(seen.startupAs, 65534, 'startup() ran as nobody');
    assert.equal(uidOf(serve.child.pid!), 65534);
  });

  it('--umask sets the mode of the socket file (0666 minus the mask)', async (t) => {
    const dir = appDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const socketPath = path.join(dir, 'u.sock');
    const serve = spawnServe(['app.mjs', '--engine', 'single', '--umask', '0o002', '--bind', `unix:${socketPath}`], { cwd: dir });
    t.after(() => serve.dispose());
    await serve.ready;
    assert.equal(fs.statSync(socketPath).mode & 0o777, 0o664);
  });

  it('an unknown user is one line at start, before anything binds', async (t) => {
    const dir = appDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const serve = spawnServe(['app.mjs', '--engine', PREFORK_ENGINE, '--user', 'no-such-user-here', '--bind', '127.0.0.1:0'], { cwd: dir });
    t.after(() => serve.dispose());
    const { code } = await serve.exited;
    assert.notEqual(code, 0);
    assert.match(serve.stderr(), /ERR_USER_UNKNOWN: No such user or group: --user no-such-user-here: no such user/);
  });

  it('a server that is not root, asked to switch user, says so in one line', { skip: NEEDS_ROOT }, async (t) => {
    const dir = appDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    // Started as nobody, asked to become root.
    const serve = spawnServe(['app.mjs', '--engine', 'single', '--user', 'root', '--bind', '127.0.0.1:0'], { cwd: dir, uid: 65534, gid: 65534 });
    t.after(() => serve.dispose());
    const { code } = await serve.exited;
    assert.notEqual(code, 0);
    assert.match(serve.stderr(), /ERR_PRIVILEGES: Could not switch user or group: running as uid 65534, not root/);
  });
});
