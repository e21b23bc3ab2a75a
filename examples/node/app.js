// An Express app, written for node:http and served by Gatehouse unchanged: Gatehouse sees a
// function of (req, res, next) and adapts it as a node:http listener.
//   GET  /                 text
//   GET  /users/:id        JSON (404 JSON for an unknown id)
//   GET  /search?q=&tag=   JSON of the parsed query (tag may repeat)
//   POST /echo             express.json() body in, { received } out (400 for invalid JSON)
//   GET  /file             public/hello.txt with res.sendFile (ETag, Last-Modified, ranges)
//   GET  /download         public/hello.txt piped with fs.createReadStream(...).pipe(res)
//   GET  /whoami           req.ip, req.protocol, req.hostname
//   GET  /old              redirect to /
//   GET  /error            next(error), answered by the error-handling middleware
//   GET  /async-error      a rejected async handler (Express 5 forwards it to the same)
import express from 'express';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const file = path.join(here, 'public', 'hello.txt');
const users = new Map([['1', { id: '1', name: 'Ada' }], ['2', { id: '2', name: 'Grace' }]]);

const app = express();
app.use(express.json());

app.get('/', (req, res) => res.send('Hello from Express'));

app.get('/users/:id', (req, res) => {
  const user = users.get(req.params.id);
  if (user) res.json(user);
  else res.status(404).json({ error: 'no such user' });
});

app.get('/search', (req, res) => res.json({ q: req.query.q ?? null, tag: req.query.tag ?? null }));

app.post('/echo', (req, res) => res.status(201).json({ received: req.body ?? null }));

app.get('/file', (req, res, next) => res.sendFile(file, (error) => { if (error) next(error); }));

app.get('/download', (req, res) => {
  res.type('text/plain');
  res.setHeader('Content-Disposition', 'attachment; filename="hello.txt"');
  fs.createReadStream(file).pipe(res);
});

app.get('/whoami', (req, res) => res.json({ ip: req.ip, protocol: req.protocol, hostname: req.hostname }));

app.get('/old', (req, res) => res.redirect(301, '/'));

app.get('/error', (req, res, next) => next(new Error('something broke')));

app.get('/async-error', async () => {
  await new Promise((resolve) => setImmediate(resolve));
  throw new Error('async handler failed');
});

// Error-handling middleware: four parameters. body-parser's errors carry their status (400).
app.use((error, req, res, next) => {
  if (res.headersSent) return next(error);
  res.status(error.status ?? 500).json({ error: error.expose === false ? 'internal error' : error.message });
});

export default app;
