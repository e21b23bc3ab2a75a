// A chat room with socket.io: `new Server(httpServer)` on an http.Server that also serves an
// Express app, exported as it is built (no listen()). socket.io replaces the server's request
// listeners with its own (engine.io's polling under /socket.io/, the Express app for the rest)
// and adds an 'upgrade' listener; Gatehouse emits both events through the server, so clients
// connect with long-polling and upgrade to WebSocket as under node:http.
//
//   serve examples/node/socketio-chat.js  then open http://localhost:8000/
//
// Polling sends several requests per session, which must reach the unit (process, or app
// thread) that holds it; elsewhere they get 400 "Session ID unknown". Run one unit (the
// default single engine, or --workers 1), or several with --sticky, or let clients skip
// polling: io({ transports: ['websocket'] }) (docs/engines.md, "Sticky sessions").
import http from 'node:http';
import express from 'express';
import { Server } from 'socket.io';

const PAGE = `<!doctype html><title>chat</title>
<ul id="log"></ul><form id="f"><input id="m" autocomplete="off"><button>send</button></form>
<script src="/socket.io/socket.io.js"></script>
<script>
  const socket = io();
  const log = (text) => { const li = document.createElement('li'); li.textContent = text; document.getElementById('log').append(li); };
  socket.on('chat', log);
  document.getElementById('f').onsubmit = (event) => { event.preventDefault(); const m = document.getElementById('m'); socket.emit('chat', m.value); m.value = ''; };
</script>`;

const app = express();
app.get('/', (req, res) => res.type('html').send(PAGE));

const server = http.createServer(app);
const io = new Server(server);

io.on('connection', (socket) => {
  socket.emit('welcome', { transport: socket.conn.transport.name });
  socket.on('chat', (text) => io.emit('chat', String(text)));
});

export default server;
