/*
 * bindForWorkers(): sockets a supervisor binds for its worker processes and never accepts on
 * itself. Nothing is accepted until a child listens on the handle; then the child serves every
 * connection; a port in use is one clear error at bind time; a unix socket's file has the
 * target's mode and goes away with the supervisor's copy.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindForWorkers } from '../src/net/listen.js';
import { isGatehouseError } from '../src/errors/index.js';

const CHILD = fileURLToPath(new URL('../../test/fixtures/listeners/listen-handle.mjs', import.meta.url));

function connectOutcome(options: net.NetConnectOpts): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const socket = net.connect(options);
    socket.once('connect', () => { socket.destroy(); resolve('connected'); });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

async function startChild(handle: object): Promise<ChildProcess> {
  const child = fork(CHILD, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const listening = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before listening`)));
  });
  child.send({ type: 'listen' }, handle as net.Server);
  await listening;
  return child;
}

function get(options: { port?: number; socketPath?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options.socketPath ? { path: options.socketPath } : { host: '127.0.0.1', port: options.port! });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => { text += chunk; });
    socket.once('error', reject);
    socket.once('end', () => resolve(text.slice(text.indexOf('\r\n\r\n') + 4)));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
}

describe('bindForWorkers', { timeout: 30_000 }, () => {
  it('binds without accepting; a child listening on the handle serves every connection', async (t) => {
    const { listeners, addresses } = await bindForWorkers([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
    t.after(() => listeners.forEach((l) => l.close()));
    const port = addresses[0]!.port!;
    assert.ok(port > 0);
    assert.equal(addresses[0]!.url, `http://127.0.0.1:${port}`);
    // Bound, not listening, and this process accepts nothing.
    assert.equal(await connectOutcome({ host: '127.0.0.1', port }), 'ECONNREFUSED');
    const child = await startChild(listeners[0]!.handle);
    t.after(() => child.kill());
    const pids = await Promise.all(Array.from({ length: 20 }, () => get({ port })));
    assert.deepEqual(new Set(pids), new Set([String(child.pid)]));
  });

  it('a port another process listens on is ERR_BIND_FAILED at bind, naming the address', async (t) => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    t.after(() => holder.close());
    const port = (holder.address() as net.AddressInfo).port;
    await assert.rejects(bindForWorkers([{ kind: 'tcp', host: '127.0.0.1', port }]), (error: unknown) =>
      isGatehouseError(error) && error.code === 'ERR_BIND_FAILED' && error.message.includes(`127.0.0.1:${port}`) && error.message.includes('EADDRINUSE'));
  });

  it('a unix socket gets its mode, is served by the child, and its file goes with the holder\'s copy', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-held-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const socketPath = path.join(dir, 'app.sock');
    const { listeners, addresses } = await bindForWorkers([{ kind: 'unix', path: socketPath, mode: 0o660 }]);
    assert.equal(addresses[0]!.url, `unix:${socketPath}`);
    assert.equal(fs.statSync(socketPath).mode & 0o777, 0o660);
    const child = await startChild(listeners[0]!.handle);
    t.after(() => child.kill());
    assert.equal(await get({ socketPath }), String(child.pid));
    listeners[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(fs.existsSync(socketPath), false);
  });
});
