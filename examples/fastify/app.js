// A Fastify app, written as for fastify.listen() and served by Gatehouse unchanged except for
// the last line: the instance is exported instead of listened on. Gatehouse sees a Fastify
// instance, runs its ready() as the app's startup (per worker process or app thread) and
// close() as its shutdown, and serves fastify.routing through the node:http adapter.
//   GET  /                 JSON
//   GET  /users/:id        JSON; a route schema turns the id into a number (404 JSON for an unknown id)
//   POST /echo             JSON body validated by a schema (400 from fastify when invalid), 201 out
//   GET  /stream?n=3       n lines from a Node stream
//   GET  /whoami           request.ip, request.protocol and request.host
//   GET  /ready            whether the onReady hook has run
//   anything else          fastify's own 404 JSON
import Fastify from 'fastify';
import { Readable } from 'node:stream';

const users = new Map([[1, { id: 1, name: 'Ada' }], [2, { id: 2, name: 'Grace' }]]);

const fastify = Fastify({ logger: false });
let ready = false;
fastify.addHook('onReady', async () => { ready = true; });

fastify.get('/', async () => ({ hello: 'from Fastify' }));

fastify.get('/users/:id', {
  schema: { params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } },
}, async (request, reply) => {
  const user = users.get(request.params.id);
  if (!user) return reply.code(404).send({ error: 'no such user' });
  return user;
});

fastify.post('/echo', {
  schema: { body: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
}, async (request, reply) => {
  reply.code(201);
  return { received: request.body };
});

fastify.get('/stream', (request, reply) => {
  const n = Number(request.query.n ?? 3);
  reply.type('text/plain').send(Readable.from(Array.from({ length: n }, (_, i) => `line ${i + 1}\n`)));
});

fastify.get('/whoami', async (request) => ({ ip: request.ip, protocol: request.protocol, host: request.host }));

fastify.get('/ready', async () => ({ ready }));

// Instead of: await fastify.listen({ port: 3000 })
export default fastify;
