/*
 * Listeners under any engine: TLS and Unix sockets through the engine's own socket handoff
 * (prefork workers sharing the master's listeners or receiving its accepted sockets, the
 * threaded engine's main thread, a single process). One server per engine, bound to TCP and a
 * Unix socket at once, with a certificate the suite makes:
 *
 *   import { runListenerSuite } from '@gatehouse/core/testkit';
 *   runListenerSuite('prefork', PreforkEngine, { workers: 2 });
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { defaultSettings, type Settings } from '../../src/settings/table.js';
import type { Engine, EngineClass } from '../../src/engine/engine.js';
import { makeCertificate, writeCertificate } from './certs.js';

/** Reports what the server told the app about the request. */
const APP = `export default (request) => ({
  status: 200,
  headers: [['content-type', 'application/json']],
  body: JSON.stringify({ scheme: request.scheme, path: request.path, remote: request.remote, server: request.server, pid: process.pid }),
});
`;

export interface HttpsResult { status: number; body: string; alpn: string | false; reused: boolean }

/** GET over a fresh TLS connection (TCP or Unix socket) trusting `ca`. */
export function httpsGet(target: { port: number } | { socketPath: string }, urlPath: string, ca: string, agent?: https.Agent): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions & tls.ConnectionOptions = { ...target, host: '127.0.0.1', servername: 'localhost', path: urlPath, ca, agent: agent ?? false, ALPNProtocols: ['http/1.1'] };
    const request = https.request(options, (response) => {
      const socket = response.socket as tls.TLSSocket;
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => {
        resolve({ status: response.statusCode!, body, alpn: socket.alpnProtocol ?? false, reused: (request as unknown as { reusedSocket: boolean }).reusedSocket });
      });
    });
    request.on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error('timed out')));
    request.end();
  });
}

export function runListenerSuite(name: string, engineClass: EngineClass, settings: Partial<Settings> = {}): void {
  describe(`listeners under ${name}: TLS over TCP and a Unix socket`, { timeout: 60_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gatehouse-listeners-${name}-`));
    const socketPath = path.join(dir, 'app.sock');
    const certificate = makeCertificate();
    const files = writeCertificate(certificate, dir);
    let engine: Engine;
    let port = 0;

    before(async () => {
      fs.writeFileSync(path.join(dir, 'app.mjs'), APP);
      const all: Settings = { ...defaultSettings(), ...settings, bind: ['127.0.0.1:0', `unix:${socketPath}`], certfile: files.certfile, keyfile: files.keyfile };
      engine = new engineClass({ settings: all, app: { kind: 'module', spec: path.join(dir, 'app.mjs') } });
      await engine.start();
      port = engine.addresses[0]!.port!;
    });

    after(async () => {
      await engine?.stop({ graceful: false, timeout: 1 });
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('reports https addresses', () => {
      assert.equal(engine.addresses[0]!.url, `https://127.0.0.1:${port}`);
      assert.equal(engine.addresses[1]!.url, `unix:${socketPath}`);
    });

    it('serves HTTPS over TCP with ALPN http/1.1 and scheme https', async () => {
      const result = await httpsGet({ port }, '/tcp', certificate.cert);
      assert.equal(result.status, 200);
      assert.equal(result.alpn, 'http/1.1');
      const seen = JSON.parse(result.body) as { scheme: string; path: string; remote: { address: string }; server: { port: number } };
      assert.equal(seen.scheme, 'https');
      assert.equal(seen.path, '/tcp');
      assert.equal(seen.remote.address, '127.0.0.1');
      assert.equal(seen.server.port, port);
    });

    it('keeps a TLS connection alive across requests', async () => {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await httpsGet({ port }, '/one', certificate.cert, agent);
        const second = await httpsGet({ port }, '/two', certificate.cert, agent);
        assert.equal(first.status, 200);
        assert.equal(second.status, 200);
        assert.equal(second.reused, true, 'the second request reused the first TLS connection');
        assert.equal(JSON.parse(second.body).path, '/two');
      } finally {
        agent.destroy();
      }
    });

    it('serves HTTPS over the Unix socket, whose file is mode 0660', async () => {
      const stat = fs.statSync(socketPath);
      assert.ok(stat.isSocket());
      assert.equal(stat.mode & 0o777, 0o660);
      const result = await httpsGet({ socketPath }, '/unix', certificate.cert);
      assert.equal(result.status, 200);
      assert.equal(JSON.parse(result.body).scheme, 'https');
    });

    it('does not serve plain HTTP on the TLS listener', async () => {
      const reply = await new Promise<string>((resolve) => {
        const socket = net.connect({ port, host: '127.0.0.1' });
        let data = '';
        socket.on('data', (chunk) => { data += chunk.toString('latin1'); });
        socket.on('error', () => {});
        socket.on('close', () => resolve(data));
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        socket.setTimeout(10_000, () => socket.destroy());
      });
      assert.ok(!reply.startsWith('HTTP/1.1 200'), 'a plaintext request is not answered as HTTP');
    });

    it('serves 20 HTTPS requests at once', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => httpsGet(i % 2 ? { port } : { socketPath }, `/n${i}`, certificate.cert)));
      assert.deepEqual(results.map((r) => r.status), new Array(20).fill(200));
    });

    it('removes the socket file when it stops', async () => {
      await engine.stop({ graceful: true, timeout: 2 });
      assert.equal(fs.existsSync(socketPath), false);
    });
  });
}
