// WebSockets with Hono under Gatehouse: the server form. A Hono app exported as a fetch handler
// (`export default app`) has no node:http server for @hono/node-ws to attach to, so this module
// builds one with @hono/node-server (never listening) and exports it; Gatehouse serves the
// server's request listener (the Hono app, through @hono/node-server) and its 'upgrade'
// listener (injectWebSocket's).
//
//   serve examples/fetch/ws-server.js     then connect to ws://localhost:8000/ws
//
//   GET /      text
//   GET /ws    WebSocket: each text message comes back as "echo: <text>"
import { Hono } from 'hono';
import { createAdaptorServer } from '@hono/node-server';
import { createNodeWebSocket } from '@hono/node-ws';

const app = new Hono();
const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app });

app.get('/', (c) => c.text('Hello from Hono; WebSocket echo at /ws'));

app.get('/ws', upgradeWebSocket(() => ({
  onOpen(event, ws) { ws.send('welcome'); },
  onMessage(event, ws) { ws.send(`echo: ${event.data}`); },
})));

const server = createAdaptorServer({ fetch: app.fetch });
injectWebSocket(server);

export default server;
