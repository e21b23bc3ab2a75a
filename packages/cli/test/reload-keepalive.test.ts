/*
 * What reload() resolving promises under the process engines: every request sent after it
 * resolves is answered by the new code, also on a keep-alive connection that an old worker
 * was serving (the old workers hand their idle connections over, close their listeners and
 * say so before reload() resolves). Through the embedding API, on real sockets.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
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
