/*
 * TLS: --certfile/--keyfile/--ca-certs/--tls-min-version/--ciphers over real TLS handshakes
 * with certificates the test makes (node:crypto, kit/certs.ts), and the one-line errors a
 * wrong file gives at start, before anything is bound.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { SingleEngine } from '../src/engine/single.js';
import { defaultSettings, type Settings } from '../src/settings/table.js';
import type { Application } from '../src/gateway/types.js';
import { isGatehouseError } from '../src/errors/index.js';
import { makeCertificate, writeCertificate, type Certificate } from './kit/certs.js';
import { startServer, type TestServer } from './kit/server.js';

const app: Application = (request) => ({ status: 200, body: `${request.scheme} ${request.path}` });

interface TlsExchange { response: string; protocol: string | null; cipher: string; alpn: string | false; authorized: boolean }

/** One request over a raw TLS connection; resolves with what came back and what was negotiated. */
function tlsRequest(port: number, options: tls.ConnectionOptions, request = 'GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'): Promise<TlsExchange> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ALPNProtocols: ['http/1.1'], ...options }, () => {
      socket.write(request);
    });
    let response = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => { response += chunk; });
    socket.on('error', reject);
    socket.on('end', () => resolve({ response, protocol: socket.getProtocol(), cipher: socket.getCipher().name, alpn: socket.alpnProtocol ?? false, authorized: socket.authorized }));
    socket.setTimeout(10_000, () => socket.destroy(new Error('timed out')));
  });
}

describe('TLS', { timeout: 30_000 }, () => {
  const server = makeCertificate();
  const files = writeCertificate(server);
  let running: TestServer[] = [];
  const start = async (settings: Partial<Settings>): Promise<TestServer> => {
    const started = await startServer({ app, settings: { certfile: files.certfile, keyfile: files.keyfile, ...settings } });
    running.push(started);
    return started;
  };
  after(async () => {
    await Promise.all(running.map((s) => s.close()));
    running = [];
    fs.rmSync(files.dir, { recursive: true, force: true });
  });

  it('answers over TLS with scheme https, verified against the certificate', async () => {
    const { port } = await start({});
    const result = await tlsRequest(port, { ca: server.cert });
    assert.equal(result.authorized, true);
    assert.equal(result.alpn, 'http/1.1');
    assert.match(result.response, /^HTTP\/1\.1 200 /);
    assert.ok(result.response.endsWith('\r\n\r\nhttps /x'), result.response);
  });

  it('--tls-min-version TLSv1.3 refuses a TLSv1.2-only client and serves a TLSv1.3 one', async () => {
    const { port } = await start({ tlsMinVersion: 'TLSv1.3' });
    await assert.rejects(tlsRequest(port, { ca: server.cert, maxVersion: 'TLSv1.2' }), /protocol version|alert/i);
    const result = await tlsRequest(port, { ca: server.cert });
    assert.equal(result.protocol, 'TLSv1.3');
  });

  it('the default minimum is TLSv1.2: a TLSv1.1 client is refused', async () => {
    const { port } = await start({});
    await assert.rejects(tlsRequest(port, { ca: server.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }), /protocol|alert|unsupported/i);
    const result = await tlsRequest(port, { ca: server.cert, maxVersion: 'TLSv1.2' });
    assert.equal(result.protocol, 'TLSv1.2');
  });

  it('--ciphers limits TLSv1.2 to the named suite', async () => {
    const { port } = await start({ ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
    const result = await tlsRequest(port, { ca: server.cert, maxVersion: 'TLSv1.2' });
    assert.equal(result.cipher, 'ECDHE-ECDSA-AES256-GCM-SHA384');
    await assert.rejects(tlsRequest(port, { ca: server.cert, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), /handshake|alert|cipher/i);
  });

  describe('--ca-certs: client certificates', () => {
    let ca: Certificate;
    let client: Certificate;
    let stranger: Certificate;
    let port = 0;
    before(async () => {
      ca = makeCertificate({ commonName: 'Gatehouse test CA', isCA: true });
      client = makeCertificate({ commonName: 'client', issuer: ca, altNames: [] });
      stranger = makeCertificate({ commonName: 'stranger', altNames: [] });
      const caFile = path.join(files.dir, 'ca.pem');
      fs.writeFileSync(caFile, ca.cert);
      ({ port } = await start({ caCerts: caFile }));
    });

    it('serves a client whose certificate the CA signed', async () => {
      const result = await tlsRequest(port, { ca: server.cert, cert: client.cert, key: client.key });
      assert.match(result.response, /^HTTP\/1\.1 200 /);
    });

    it('refuses a client without a certificate, or with one the CA did not sign', async () => {
      const refused = async (options: tls.ConnectionOptions): Promise<void> => {
        // TLS 1.3 reports the refusal after the client's handshake completes: either the
        // handshake fails or the connection ends without a response.
        const outcome = await tlsRequest(port, { ca: server.cert, ...options }).then((r) => r.response, (e: Error) => `error: ${e.message}`);
        assert.ok(!outcome.startsWith('HTTP/'), `expected a refusal, got ${outcome.slice(0, 40)}`);
      };
      await refused({});
      await refused({ cert: stranger.cert, key: stranger.key });
    });
  });
});

describe('TLS errors at start are one line naming the file', { timeout: 30_000 }, () => {
  const good = writeCertificate(makeCertificate());
  const other = writeCertificate(makeCertificate({ commonName: 'other' }), good.dir);
  const garbage = path.join(good.dir, 'garbage.pem');
  fs.writeFileSync(garbage, 'this is not PEM\n');
  after(() => fs.rmSync(good.dir, { recursive: true, force: true }));

  const startError = async (settings: Partial<Settings>): Promise<string> => {
    const engine = new SingleEngine({ settings: { ...defaultSettings(), bind: ['127.0.0.1:0'], ...settings }, app: { kind: 'inline', app: { app, interface: 'gateway' } } });
    try {
      await engine.start();
    } catch (error) {
      assert.ok(isGatehouseError(error), String(error));
      assert.equal(error.code, 'ERR_TLS_CONFIG');
      const line = error.toLine();
      assert.ok(!line.includes('\n'), `one line: ${line}`);
      return line;
    }
    await engine.stop({ graceful: false });
    assert.fail('start() succeeded');
  };

  it('a missing certificate file', async () => {
    const missing = path.join(good.dir, 'nope.pem');
    assert.match(await startError({ certfile: missing, keyfile: good.keyfile }), new RegExp(`--certfile ${missing}: no such file`));
  });

  it('a key that does not belong to the certificate', async () => {
    assert.match(await startError({ certfile: good.certfile, keyfile: other.keyfile }), /are not a pair: key values mismatch/);
  });

  it('a certificate file that is not PEM', async () => {
    assert.match(await startError({ certfile: garbage, keyfile: good.keyfile }), new RegExp(`--certfile ${garbage}: no start line`));
  });

  it('a key file that is not a key', async () => {
    assert.match(await startError({ certfile: good.certfile, keyfile: good.certfile }), new RegExp(`--keyfile ${good.certfile}: `));
  });

  it('a CA file without a certificate', async () => {
    assert.match(await startError({ certfile: good.certfile, keyfile: good.keyfile, caCerts: garbage }), /--ca-certs .*: no PEM certificate in it/);
  });

  it('a cipher list OpenSSL does not know', async () => {
    assert.match(await startError({ certfile: good.certfile, keyfile: good.keyfile, ciphers: 'NO-SUCH-CIPHER' }), /--ciphers "NO-SUCH-CIPHER": no cipher match/);
  });

  it('a key without a certificate', async () => {
    assert.match(await startError({ keyfile: good.keyfile }), /--keyfile is set without --certfile/);
  });

  it('a certificate file holding the key too needs no --keyfile', async () => {
    const combined = path.join(good.dir, 'combined.pem');
    fs.writeFileSync(combined, fs.readFileSync(good.certfile, 'utf8') + fs.readFileSync(good.keyfile, 'utf8'));
    const engine = new SingleEngine({ settings: { ...defaultSettings(), bind: ['127.0.0.1:0'], certfile: combined }, app: { kind: 'inline', app: { app, interface: 'gateway' } } });
    await engine.start();
    try {
      assert.match(engine.addresses[0]!.url, /^https:\/\//);
    } finally {
      await engine.stop({ graceful: false });
    }
  });
});
