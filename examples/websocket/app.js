// A native Gateway app with WebSockets (Gateway Interface 1.1, docs/gateway-interface.md §9):
//   /echo   sends every message back as it came (text as text, binary as binary)
//   /room   a chat room: every message goes to every socket in the room, sender included
//   else    a plain HTTP page saying how many sockets the room holds
// The room is a Set in this app unit: under prefork each worker process has its own room, under
// threaded and hybrid each app thread, so a broadcast reaches only the sockets of the unit that
// received it. For one room across units, publish each message to a broker (Redis pub/sub, NATS, Postgres LISTEN/NOTIFY)
// and let every process send what it receives from the broker to its own sockets.
const room = new Set();

export default function app(request) {
  const offer = request.upgrade;
  if (request.path === '/echo' && offer?.protocol === 'websocket') return echo(offer);
  if (request.path === '/room' && offer?.protocol === 'websocket') return join(offer);
  if (offer) return { status: 404, body: 'no such socket\n' }; // refuses the upgrade
  return { status: 200, headers: { 'content-type': 'text/plain' }, body: `room: ${room.size} in process ${process.pid}\n` };
}

function echo(offer) {
  const { socket, response } = offer.acceptWebSocket();
  (async () => {
    // Iteration reads from the client only as fast as this loop pulls; drained() waits while
    // the client is slower to read than we are to send. This flow control costs a few promise
    // settlements per message; an app that needs none can use socket.on('message', ...) as
    // /room does (see docs/benchmarks.md, WebSockets).
    for await (const message of socket) {
      socket.send(message);
      await socket.drained();
    }
  })();
  return response;
}

function join(offer) {
  const { socket, response } = offer.acceptWebSocket();
  socket.on('open', () => room.add(socket));
  socket.on('close', () => room.delete(socket));
  socket.on('message', (message) => {
    // A member that cannot keep up is ended by the server at --ws-max-buffered; the room
    // goes on for the others.
    for (const member of room) member.send(message);
  });
  return response;
}
