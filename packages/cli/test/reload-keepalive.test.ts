/*
 * What a reload promises under the process engines, through the embedding API on real
 * sockets: every request sent after reload() resolves is answered by the new code, also on a
 * keep-alive connection an old worker was serving and on one it had accepted that had not yet
 * sent its first request; and under keep-alive load, with rolling and generation reloads, no
 * request fails with a client that never retries and no connection is closed (old workers
 * hand every plain TCP connection over between requests instead of closing it).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { createServer } from '../src/index.js';
import { tempDir } from './kit/index.js';

const appSource = (version: string) =>
  `export default () => ({ status: 200, headers: [['content-type', 'text/plain']], body: '${version} ' + process.pid });\n`;

/** GET / on `agent`; the body ("version pid") and whether the socket was a reused one. */
function get(url: string, agent: http.Agent): Promise<{ body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${url}/`, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ body, reused: request.reusedSocket }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

for (const engine of ['prefork', 'hybrid'] as const) {
  describe(`reload() under ${engine}`, { timeout: 60_000 }, () => {
    it('once reload() resolves, a kept-alive connection gets the new code', async () => {
      const dir = tempDir({ 'app.mjs': appSource('v1') });
      const file = path.join(dir, 'app.mjs');
      const server = await createServer({ app: file, engine, workers: 1, threads: 1, bind: '127.0.0.1:0', log_level: 'silent' });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const url = server.addresses[0]!.url;
        for (let round = 2; round <= 4; round++) {
          const before = await get(url, agent);
          assert.match(before.body, new RegExp(`^v${round - 1} `));
          fs.writeFileSync(file, appSource(`v${round}`));
          await server.reload();
          const after = await get(url, agent);
          assert.match(after.body, new RegExp(`^v${round} `), `round ${round}: the first request after reload() resolved (on a ${after.reused ? 'reused' : 'new'} connection)`);
        }
      } finally {
        agent.destroy();
        await server.close({ graceful: false });
      }
    });
  });
}

/**
 * One GET on `agent`, never retried: the status, body, whether the response said
 * `Connection: close`, and whether the socket was a reused one.
 */
function getOnce(url: string, agent: http.Agent): Promise<{ status: number; body: string; close: boolean; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, close: response.headers.connection === 'close', reused: request.reusedSocket }));
      response.on('error', reject);
    });
    request.setTimeout(10_000, () => request.destroy(new Error('no response in 10 s')));
    request.on('error', reject);
  });
}

/** Answers "<version> <path>"; /slow after 30 ms, so connections are mid-request when a reload comes. */
const loadApp = (version: string) => `export default async (request) => {
  if (request.path === '/slow') await new Promise((resolve) => setTimeout(resolve, 30));
  return { status: 200, headers: [['content-type', 'text/plain']], body: '${version} ' + request.path };
};\n`;

const CLIENTS = 8;
const RELOADS = 3;

for (const engine of ['prefork', 'hybrid'] as const) {
  for (const strategy of ['rolling', 'generation'] as const) {
    describe(`${strategy} reload() under ${engine}, keep-alive load`, { timeout: 90_000 }, () => {
      it('no request fails without a retry, no connection is closed, new code once reload() resolves', async () => {
        const dir = tempDir({ 'app.mjs': loadApp('v1') });
        const file = path.join(dir, 'app.mjs');
        const server = await createServer({ app: file, engine, workers: 2, threads: 2, reload_strategy: strategy, bind: '127.0.0.1:0', log_level: 'silent' });
        const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
        let resolved = 1;
        let stop = false;
        let total = 0;
        let opened = 0;
        const failures: string[] = [];
        const closes: string[] = [];
        const stale: string[] = [];
        const deadline = Date.now() + 60_000;
        try {
          const url = server.addresses[0]!.url;
          const client = async (index: number) => {
            while (!stop && total < 200_000 && Date.now() < deadline) {
              const mustBe = resolved;
              const target = `/${index % 2 === 0 ? 'slow' : 'fast'}`;
              total++;
              try {
                const { status, body, close, reused } = await getOnce(url + target, agent);
                if (!reused) opened++;
                if (status !== 200) failures.push(`status ${status}`);
                if (close) closes.push(body);
                const version = Number(/^v(\d+) /.exec(body)?.[1] ?? 0);
                if (version < mustBe) stale.push(`${body} sent after v${mustBe} was serving`);
              } catch (error) {
                failures.push((error as NodeJS.ErrnoException).code ?? String(error));
              }
            }
          };
          const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
          for (let version = 2; version <= RELOADS + 1; version++) {
            await new Promise((resolve) => setTimeout(resolve, 700));
            fs.writeFileSync(file, loadApp(`v${version}`));
            await server.reload();
            resolved = version;
          }
          await new Promise((resolve) => setTimeout(resolve, 500));
          stop = true;
          await Promise.all(clients);
          assert.ok(total > 100, `the load ran (${total} requests)`);
          assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${total} requests failed`);
          assert.deepEqual(stale.slice(0, 10), [], `${stale.length} requests sent after reload() resolved met old code`);
          assert.deepEqual(closes.slice(0, 10), [], `${closes.length} responses closed their connection`);
          assert.equal(opened, CLIENTS, 'each client kept the one connection it opened');
        } finally {
          stop = true;
          agent.destroy();
          await server.close({ graceful: false });
        }
      });
    });
  }

  describe(`reload() under ${engine}, a connection that has not sent its first request`, { timeout: 60_000 }, () => {
    it('is moved too: its first request, sent after reload() resolved, meets the new code', async () => {
      const dir = tempDir({ 'app.mjs': appSource('v1') });
      const file = path.join(dir, 'app.mjs');
      const server = await createServer({ app: file, engine, workers: 2, threads: 1, bind: '127.0.0.1:0', log_level: 'silent' });
      const sockets: net.Socket[] = [];
      try {
        const port = server.addresses[0]!.port!;
        for (let i = 0; i < 6; i++) {
          const socket = net.connect(port, '127.0.0.1');
          await once(socket, 'connect');
          sockets.push(socket);
        }
        // Long enough for the workers (or the master, which hands it on) to accept each one.
        await new Promise((resolve) => setTimeout(resolve, 300));
        fs.writeFileSync(file, appSource('v2'));
        await server.reload();
        const answers = await Promise.all(sockets.map(async (socket) => {
          let text = '';
          socket.setEncoding('latin1');
          socket.on('data', (chunk: string) => { text += chunk; });
          socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
          await once(socket, 'end');
          return text.slice(text.indexOf('\r\n\r\n') + 4).split(' ')[0];
        }));
        assert.deepEqual(answers, sockets.map(() => 'v2'));
      } finally {
        for (const socket of sockets) socket.destroy();
        await server.close({ graceful: false });
      }
    });
  });
}
