// examples/nestjs (a NestJS app on @nestjs/platform-express; the Express app Nest built is
// exported) over real HTTP, under every engine (single, threaded, prefork, hybrid).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ENGINES, serveForSuite } from './engines.mjs';

const APP = fileURLToPath(new URL('../nestjs/app.js', import.meta.url));

for (const [name, Engine] of ENGINES) {
  describe(`examples/nestjs under the ${name} engine`, { timeout: 30_000 }, () => {
    const served = serveForSuite(APP, Engine, { engine: name, workers: 2, threads: 2, gracefulTimeout: 2 });

    it('GET / answers the controller\'s text', async () => {
      const response = await fetch(`${served.base}/`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-powered-by'), 'Express');
      assert.equal(await response.text(), 'Hello from NestJS');
    });

    it('GET /users/:id answers from the injected service; NotFoundException is Nest\'s 404 JSON', async () => {
      const found = await fetch(`${served.base}/users/1`);
      assert.equal(found.status, 200);
      assert.deepEqual(await found.json(), { id: '1', name: 'Ada' });
      const missing = await fetch(`${served.base}/users/99`);
      assert.equal(missing.status, 404);
      assert.deepEqual(await missing.json(), { message: 'no such user', error: 'Not Found', statusCode: 404 });
    });

    it('POST /users: a JSON body round trip through Nest\'s body parser (201); 400 without a name or with broken JSON', async () => {
      const response = await fetch(`${served.base}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Linus Törvalds' }) });
      assert.equal(response.status, 201);
      const created = await response.json();
      assert.equal(created.name, 'Linus Törvalds');
      assert.match(created.id, /^\d+$/);
      const nameless = await fetch(`${served.base}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(nameless.status, 400);
      assert.deepEqual(await nameless.json(), { message: 'name is required', error: 'Bad Request', statusCode: 400 });
      const broken = await fetch(`${served.base}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name' });
      assert.equal(broken.status, 400);
    });

    it('an unknown route gets Nest\'s own 404 JSON', async () => {
      const response = await fetch(`${served.base}/nowhere`);
      assert.equal(response.status, 404);
      assert.deepEqual(await response.json(), { message: 'Cannot GET /nowhere', error: 'Not Found', statusCode: 404 });
    });
  });
}
