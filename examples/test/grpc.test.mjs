// examples/grpc under every engine, called with @grpc/grpc-js's client over h2c (prior
// knowledge): unary, server streaming, and errors carried by the grpc-status trailers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { ENGINES, serveForSuite } from './engines.mjs';

const APP = fileURLToPath(new URL('../grpc/', import.meta.url));
const PROTO = fileURLToPath(new URL('../grpc/greeter.proto', import.meta.url));
const { Greeter } = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO)).gatehouse.example;

// gRPC's status lives in the response trailers: every engine must carry them (threaded and
// hybrid from the app thread), or calls end without a status.
const ENGINE_SETTINGS = { prefork: { workers: 2 }, threaded: { threads: 2 }, hybrid: { workers: 2, threads: 2 } };

const unary = (client, method, request) => new Promise((resolve, reject) => {
  client[method](request, (error, reply) => (error ? reject(error) : resolve(reply)));
});

/** Every reply of a server stream, then its end or its error (with the replies before it). */
const collect = (call) => new Promise((resolve) => {
  const replies = [];
  call.on('data', (reply) => replies.push(reply));
  call.on('error', (error) => resolve({ replies, error }));
  call.on('end', () => resolve({ replies, error: null }));
});

for (const [name, Engine] of ENGINES) {
  describe(`examples/grpc: ${name}`, { timeout: 90_000 }, () => {
    const served = serveForSuite(APP, Engine, { logLevel: 'fatal', ...ENGINE_SETTINGS[name] });
    let client = null;
    const greeter = () => (client ??= new Greeter(`127.0.0.1:${served.port}`, grpc.credentials.createInsecure()));

    it('unary: SayHello answers with a HelloReply', async () => {
      const reply = await unary(greeter(), 'SayHello', { name: 'Ada' });
      assert.equal(reply.message, 'Hello, Ada!');
    });

    it('unary error: an empty name is INVALID_ARGUMENT with its message', async () => {
      await assert.rejects(unary(greeter(), 'SayHello', { name: '' }), (error) => {
        assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
        assert.equal(error.details, 'name is required');
        return true;
      });
    });

    it('server streaming: CountUp streams its replies in order and ends OK', async () => {
      const { replies, error } = await collect(greeter().CountUp({ name: 'n', count: 5, intervalMs: 5 }));
      assert.equal(error, null);
      assert.deepEqual(replies.map((r) => [r.n, r.message]), [[1, 'n 1'], [2, 'n 2'], [3, 'n 3'], [4, 'n 4'], [5, 'n 5']]);
    });

    it('server streaming error after data: the replies sent, then ABORTED from the trailers', async () => {
      const { replies, error } = await collect(greeter().CountUp({ name: 'f', count: 10, failAfter: 3 }));
      assert.deepEqual(replies.map((r) => r.n), [1, 2, 3]);
      assert.equal(error?.code, grpc.status.ABORTED);
      assert.equal(error.details, 'stopped after 3 replies, as asked');
    });

    it('server streaming error before data: OUT_OF_RANGE', async () => {
      const { replies, error } = await collect(greeter().CountUp({ name: 'x', count: 5000 }));
      assert.equal(replies.length, 0);
      assert.equal(error?.code, grpc.status.OUT_OF_RANGE);
    });

    it('an unknown method is UNIMPLEMENTED; concurrent calls on one connection all succeed', async () => {
      const unknown = new Promise((resolve) => {
        greeter().makeUnaryRequest('/gatehouse.example.Greeter/Nope', (x) => x, (x) => x, Buffer.alloc(0), (error) => resolve(error));
      });
      assert.equal((await unknown)?.code, grpc.status.UNIMPLEMENTED);
      const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
      const replies = await Promise.all(names.map((n) => unary(greeter(), 'SayHello', { name: n })));
      assert.deepEqual(replies.map((r) => r.message), names.map((n) => `Hello, ${n}!`));
      client.close();
    });
  });
}
