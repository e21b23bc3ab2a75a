// A chat room over WebSocket: an Express app and a `ws` WebSocketServer on one http.Server,
// exported as it is built (no listen()). Gatehouse serves the server's request listener (the
// Express app) and its 'upgrade' listener (ws), as node:http would.
//
//   serve examples/node/ws-chat.js        then open http://localhost:8000/
//
// Every connected client gets what any client sends, within one process: with several
// workers, each worker holds its own room (share one through Redis or similar).
import http from 'node:http';
import express from 'express';
import { WebSocketServer } from 'ws';

const PAGE = `<!doctype html><title>chat</title>
<ul id="log"></ul><form id="f"><input id="m" autocomplete="off"><button>send</button></form>
<script>
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/chat');
  const log = (text) => { const li = document.createElement('li'); li.textContent = text; document.getElementById('log').append(li); };
  ws.onmessage = (event) => { const m = JSON.parse(event.data); log(m.type === 'chat' ? m.text : '(' + m.type + ')'); };
  document.getElementById('f').onsubmit = (event) => { event.preventDefault(); const m = document.getElementById('m'); ws.send(m.value); m.value = ''; };
</script>`;

const app = express();
app.get('/', (req, res) => res.type('html').send(PAGE));
app.get('/stats', (req, res) => res.json({ clients: wss.clients.size }));

const server = http.createServer(app);
const wss = new WebSocketServer({ server, path: '/chat' });

wss.on('connection', (socket) => {
  socket.send(JSON.stringify({ type: 'welcome', clients: wss.clients.size }));
  socket.on('message', (data) => {
    const message = JSON.stringify({ type: 'chat', text: data.toString() });
    for (const client of wss.clients) if (client.readyState === client.OPEN) client.send(message);
  });
});

export default server;
