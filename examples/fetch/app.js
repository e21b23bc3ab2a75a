// A Hono app, written for any fetch-handler runtime and served by Gatehouse unchanged:
// Gatehouse sees `export default app` (an object with fetch) and adapts it.
//   GET  /                 text
//   GET  /users/:id        JSON (404 JSON for an unknown id)
//   GET  /search?q=&tag=   JSON of the query (tag may repeat)
//   POST /echo             JSON body in, { received, bytes } out (400 for invalid JSON)
//   POST /upper            text body in, upper-cased text out
//   GET  /stream?n=5       n lines, each written (and flushed) as it is produced
//   GET  /whoami           the client address, via @hono/node-server's getConnInfo
//   GET  /cookies          two Set-Cookie fields
//   GET  /error            a thrown error, answered by app.onError
import { Hono } from 'hono';
import { streamText } from 'hono/streaming';
import { getConnInfo } from '@hono/node-server/conninfo';

const users = new Map([['1', { id: '1', name: 'Ada' }], ['2', { id: '2', name: 'Grace' }]]);

const app = new Hono();

app.get('/', (c) => c.text('Hello from Hono'));

app.get('/users/:id', (c) => {
  const user = users.get(c.req.param('id'));
  return user ? c.json(user) : c.json({ error: 'no such user' }, 404);
});

app.get('/search', (c) => c.json({ q: c.req.query('q') ?? null, tags: c.req.queries('tag') ?? [] }));

app.post('/echo', async (c) => {
  let received;
  try {
    received = await c.req.json();
  } catch {
    return c.json({ error: 'body is not valid JSON' }, 400);
  }
  return c.json({ received, bytes: Number(c.req.header('content-length') ?? 0) }, 201);
});

app.post('/upper', async (c) => c.text((await c.req.text()).toUpperCase()));

app.get('/stream', (c) => {
  const n = Math.min(Number(c.req.query('n') ?? 5) || 5, 100);
  return streamText(c, async (stream) => {
    for (let i = 1; i <= n; i++) {
      await stream.writeln(`line ${i} of ${n}`);
      await stream.sleep(10);
    }
  });
});

app.get('/whoami', (c) => c.json(getConnInfo(c).remote));

app.get('/cookies', (c) => {
  c.header('Set-Cookie', 'theme=dark; Path=/', { append: true });
  c.header('Set-Cookie', 'lang=en; Path=/; HttpOnly', { append: true });
  return c.text('two cookies');
});

app.get('/error', () => {
  throw new Error('something broke');
});

app.onError((error, c) => c.json({ error: error.message }, 500));

export default app;
