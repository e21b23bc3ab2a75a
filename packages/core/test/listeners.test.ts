/*
 * Listeners: Unix sockets (mode, a stale file removed, a live one or a non-socket left alone,
 * cleanup on stop), several binds at once, inherited sockets (fd://N in a child process, the
 * way a supervisor passes them), systemd's LISTEN_FDS/LISTEN_PID rules, and the listener
 * suite (TLS over TCP and a Unix socket) under the single engine.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SingleEngine } from '../src/engine/single.js';
import { prepareToListen } from '../src/net/prepare.js';
import { takeSocketActivation } from '../src/net/systemd.js';
import { defaultSettings, type Settings } from '../src/settings/table.js';
import type { ListenAddress } from '../src/engine/engine.js';
import type { Application } from '../src/gateway/types.js';
import { runListenerSuite } from './kit/listener-suite.js';

const CHILD = fileURLToPath(new URL('../../test/fixtures/listeners/serve-single.mjs', import.meta.url));

const app: Application = (request) => ({ status: 200, headers: [['content-type', 'application/json']], body: JSON.stringify({ path: request.path, remote: request.remote }) });

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-listen-'));
}

async function startSingle(overrides: Partial<Settings>): Promise<SingleEngine> {
  const engine = new SingleEngine({ settings: { ...defaultSettings(), ...overrides }, app: { kind: 'inline', app: { app, interface: 'gateway' } } });
  await engine.start();
  return engine;
}

function get(options: { socketPath: string } | { port: number }, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ ...options, host: '127.0.0.1', path: urlPath, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    request.on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error('timed out')));
    request.end();
  });
}

runListenerSuite('single', SingleEngine as never);

describe('unix: sockets', { timeout: 30_000 }, () => {
  it('serves HTTP on unix:PATH, the peer address is empty, and the file goes away on stop', async (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const socketPath = path.join(dir, 'web.sock');
    const engine = await startSingle({ bind: [`unix:${socketPath}`] });
    t.after(() => engine.stop({ graceful: false }));
    assert.deepEqual(engine.addresses.map((a) => a.url), [`unix:${socketPath}`]);
    assert.equal(fs.statSync(socketPath).mode & 0o777, 0o660);
    const response = await get({ socketPath }, '/hello');
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { path: '/hello', remote: { address: '', port: 0 } });
    await engine.stop({ graceful: true, timeout: 1 });
    assert.equal(fs.existsSync(socketPath), false);
  });

  it('replaces a stale socket file that nobody listens on', async (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const socketPath = path.join(dir, 'stale.sock');
    // A server that dies without closing leaves its socket file behind.
    const died = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.equal(died.signal, 'SIGKILL');
    assert.ok(fs.statSync(socketPath).isSocket(), 'the dead server left its socket file');
    const engine = await startSingle({ bind: [`unix:${socketPath}`] });
    t.after(() => engine.stop({ graceful: false }));
    assert.equal((await get({ socketPath })).status, 200);
  });

  it('replacing a stale socket file leaves later imports of symlinked packages (pnpm) resolvable', async (t) => {
    // node_modules/a links to .pnpm/a@1/node_modules/a, whose index.js imports its sibling b:
    // only a resolver that follows the link finds b.
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const store = path.join(dir, 'node_modules/.pnpm/a@1/node_modules');
    for (const [name, text] of [['a', 'export { b } from "b";'], ['b', 'export const b = "b";']] as const) {
      fs.mkdirSync(path.join(store, name), { recursive: true });
      fs.writeFileSync(path.join(store, name, 'package.json'), JSON.stringify({ name, type: 'module', exports: './index.js' }));
      fs.writeFileSync(path.join(store, name, 'index.js'), text);
    }
    fs.symlinkSync('.pnpm/a@1/node_modules/a', path.join(dir, 'node_modules/a'));
    fs.writeFileSync(path.join(dir, 'first.mjs'), 'export {};');
    fs.writeFileSync(path.join(dir, 'later.mjs'), 'export { b } from "a";');
    await import(pathToFileURL(path.join(dir, 'first.mjs')).href); // the resolver now caches the directories on the way
    fs.statSync(dir); // a number stat of a directory: the sockets that earlier tests statted no longer count
    const socketPath = path.join(dir, 'stale.sock');
    const died = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.equal(died.signal, 'SIGKILL');
    const engine = await startSingle({ bind: [`unix:${socketPath}`] });
    t.after(() => engine.stop({ graceful: false }));
    const later = await import(pathToFileURL(path.join(dir, 'later.mjs')).href) as { b: string };
    assert.equal(later.b, 'b');
  });

  it('refuses to take over a socket another server is listening on, and leaves it working', async (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const socketPath = path.join(dir, 'live.sock');
    const other = http.createServer((_, res) => res.end('other')).listen(socketPath);
    await new Promise((resolve) => other.once('listening', resolve));
    t.after(() => new Promise((resolve) => other.close(resolve)));
    await assert.rejects(startSingle({ bind: [`unix:${socketPath}`] }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_BIND_FAILED');
      assert.match(error.message, /live\.sock: a running server is listening on this socket/);
      return true;
    });
    assert.equal((await get({ socketPath })).body, 'other');
  });

  it('never deletes a path that is not a socket', async (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const filePath = path.join(dir, 'data.txt');
    fs.writeFileSync(filePath, 'precious');
    await assert.rejects(startSingle({ bind: [`unix:${filePath}`] }), /ERR_BIND_FAILED|exists and is not a stale socket/);
    assert.equal(fs.readFileSync(filePath, 'utf8'), 'precious');
  });

  it('gives the socket file 0666 minus --umask when --umask is set', async (t) => {
    const dir = tempDir();
    const previous = process.umask();
    t.after(() => { process.umask(previous); fs.rmSync(dir, { recursive: true, force: true }); });
    const socketPath = path.join(dir, 'private.sock');
    const engine = await startSingle({ bind: [`unix:${socketPath}`], umask: '077' });
    t.after(() => engine.stop({ graceful: false }));
    assert.equal(process.umask(), 0o077, '--umask applies to the process');
    assert.equal(fs.statSync(socketPath).mode & 0o777, 0o600);
    assert.equal((await get({ socketPath })).status, 200);
  });
});

describe('several binds at once', { timeout: 30_000 }, () => {
  it('serves the same app on two TCP ports and a Unix socket', async (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const socketPath = path.join(dir, 'a.sock');
    const engine = await startSingle({ bind: ['127.0.0.1:0', '127.0.0.1:0', `unix:${socketPath}`] });
    t.after(() => engine.stop({ graceful: false }));
    const [first, second] = engine.addresses as [ListenAddress, ListenAddress];
    assert.notEqual(first.port, second.port);
    const answers = await Promise.all([get({ port: first.port! }, '/a'), get({ port: second.port! }, '/b'), get({ socketPath }, '/c')]);
    assert.deepEqual(answers.map((a) => JSON.parse(a.body).path), ['/a', '/b', '/c']);
  });
});

interface ChildReady { type: 'ready' | 'failed'; addresses?: ListenAddress[]; code?: string; message?: string }

/** The listening socket's descriptor: spawn() passes a descriptor as is (a net.Server it does not take). */
function fdOf(server: net.Server): number {
  return (server as unknown as { _handle: { fd: number } })._handle.fd;
}

/** Runs serve-single.mjs with `server`'s socket as its fd 3 (as a supervisor passes one), IPC on fd 4. */
function spawnWithSocket(server: net.Server, settings: Partial<Settings>, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(settings)], { stdio: ['ignore', 'inherit', 'inherit', fdOf(server), 'ipc'], env: { ...process.env, ...env } });
  const ready = new Promise<ChildReady>((resolve, reject) => {
    child.once('message', (message: ChildReady) => resolve(message));
    child.once('exit', (code) => reject(new Error(`child exited ${code} before reporting`)));
  });
  return { child, ready };
}

function listenTcp(): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(server));
  });
}

describe('inherited sockets', { timeout: 30_000 }, () => {
  it('fd://3 serves on a listening socket passed by the parent process', async (t) => {
    const listener = await listenTcp();
    const port = (listener.address() as net.AddressInfo).port;
    const { child, ready } = spawnWithSocket(listener, { bind: ['fd://3'] });
    // The child has its own copy now; ours must not accept in competition with it.
    listener.close();
    t.after(() => { child.kill('SIGKILL'); });
    const message = await ready;
    assert.equal(message.type, 'ready', message.message);
    assert.equal(message.addresses![0]!.kind, 'fd');
    assert.equal(message.addresses![0]!.url, `http://127.0.0.1:${port}`);
    const seen = JSON.parse((await get({ port }, '/inherited')).body) as { pid: number; path: string };
    assert.equal(seen.pid, child.pid);
    assert.equal(seen.path, '/inherited');
  });

  it('an fd that is not a socket is one clear error', async (t) => {
    const listener = await listenTcp();
    const { child, ready } = spawnWithSocket(listener, { bind: ['fd://9'] });
    listener.close();
    t.after(() => { child.kill('SIGKILL'); });
    const message = await ready;
    assert.equal(message.type, 'failed');
    assert.equal(message.code, 'ERR_BIND_FAILED');
    assert.match(message.message!, /fd:\/\/9/);
  });
});

describe('systemd socket activation: LISTEN_FDS / LISTEN_PID', () => {
  it('takes fds 3.. when LISTEN_PID is this process, and unsets the variables', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_FDS: '2', LISTEN_PID: '4242', LISTEN_FDNAMES: 'web:admin', OTHER: 'kept' };
    assert.deepEqual(takeSocketActivation(env, 4242), { fds: [3, 4], names: ['web', 'admin'] });
    assert.deepEqual(env, { OTHER: 'kept' });
  });

  it('ignores sockets meant for another process, or without LISTEN_PID, and leaves the variables', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_FDS: '1', LISTEN_PID: '1' };
    assert.equal(takeSocketActivation(env, 4242), null);
    assert.deepEqual(env, { LISTEN_FDS: '1', LISTEN_PID: '1' });
    assert.equal(takeSocketActivation({ LISTEN_FDS: '1' }, 4242), null);
  });

  it('rejects a LISTEN_FDS that is not a count', () => {
    assert.throws(() => takeSocketActivation({ LISTEN_FDS: 'three', LISTEN_PID: '7' }, 7), { code: 'ERR_LISTEN_FDS' });
  });

  it('uses the activated sockets only when --bind is left at its default', () => {
    const settings = defaultSettings();
    assert.deepEqual(prepareToListen(settings, { LISTEN_FDS: '2', LISTEN_PID: String(process.pid) }), [{ kind: 'fd', fd: 3 }, { kind: 'fd', fd: 4 }]);
    const explicit = { ...settings, bind: ['127.0.0.1:9000'] };
    assert.deepEqual(prepareToListen(explicit, { LISTEN_FDS: '2', LISTEN_PID: String(process.pid) }), [{ kind: 'tcp', host: '127.0.0.1', port: 9000 }]);
  });

  it('serves on a socket passed as systemd passes it (LISTEN_FDS=1, LISTEN_PID = the server pid)', async (t) => {
    const listener = await listenTcp();
    const port = (listener.address() as net.AddressInfo).port;
    // LISTEN_PID must be the server's own pid, known only once it exists: bash sets it and
    // execs node in place, the way systemd sets it between fork and exec.
    const child = spawn('bash', ['-c', 'export LISTEN_FDS=1 LISTEN_PID=$$; exec "$0" "$@"', process.execPath, CHILD, '{}'], { stdio: ['ignore', 'inherit', 'inherit', fdOf(listener), 'ipc'] });
    listener.close();
    t.after(() => { child.kill('SIGKILL'); });
    const message = await new Promise<ChildReady>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    assert.equal(message.type, 'ready', message.message);
    assert.equal(message.addresses![0]!.url, `http://127.0.0.1:${port}`);
    const seen = JSON.parse((await get({ port })).body) as { pid: number; listenFds: string | null; listenPid: string | null };
    assert.equal(seen.pid, child.pid);
    assert.equal(seen.listenFds, null, 'LISTEN_FDS is unset once taken');
    assert.equal(seen.listenPid, null);
  });
});
