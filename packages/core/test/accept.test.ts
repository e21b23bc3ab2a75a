/*
 * The accept path every engine shares (net/accept.ts): connections a listener accepts
 * before it has a 'connection' listener are held and handed to the first one, in order, a client that gives up while
 * held raises nothing, and closing the listener ends the held ones.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { bindListener } from '../src/internal.js';

const until = async (what: string, check: () => boolean) => {
  for (const deadline = Date.now() + 5000; !check(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
};

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('connections accepted before anything serves them', () => {
  it('are held, then handed over in arrival order with the bytes they sent', async (t) => {
    const listener = await bindListener({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    t.after(() => listener.close());
    const port = (listener.address() as net.AddressInfo).port;
    const clients: net.Socket[] = [];
    t.after(() => clients.forEach((c) => c.destroy()));
    for (const word of ['first', 'second', 'third']) {
      const client = await connect(port);
      client.write(word);
      clients.push(client);
      await new Promise((r) => setTimeout(r, 20)); // accepted, in this order
    }
    const given: string[] = [];
    listener.on('connection', (socket: net.Socket) => {
      socket.once('data', (data: Buffer) => given.push(data.toString()));
    });
    await until('the held sockets to be read', () => given.length === 3);
    assert.deepEqual(given, ['first', 'second', 'third']);
    const late = await connect(port);
    clients.push(late);
    late.write('late');
    await until('a new connection', () => given.length === 4);
    assert.equal(given[3], 'late');
  });

  it('a client that resets while held raises nothing; closing the listener closes the rest', async (t) => {
    const listener = await bindListener({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    const port = (listener.address() as net.AddressInfo).port;
    const gone = await connect(port);
    const waiting = await connect(port);
    t.after(() => { gone.destroy(); waiting.destroy(); });
    // Counted without a 'connection' listener, which would take the held sockets.
    let accepted = 0;
    await until('both accepted', () => { listener.getConnections((_error, count) => { accepted = count; }); return accepted === 2; });
    gone.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 50)); // an unhandled 'error' would fail the test here
    const closed = new Promise<void>((resolve) => waiting.once('close', () => resolve()));
    listener.close();
    await closed;
  });
});
