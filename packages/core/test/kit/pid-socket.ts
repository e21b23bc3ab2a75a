/*
 * A `ws` client of the websocket-pid fixture (test/fixtures/apps/websocket-pid.js), which greets
 * each WebSocket with its process's pid: which unit holds the socket, and how it closed, for
 * reload and stop tests.
 */
import { once } from 'node:events';
import WebSocket from 'ws';

export interface PidSocket {
  readonly ws: WebSocket;
  /** The pid of the process that accepted it (the fixture's greeting). */
  readonly pid: number;
  /** The close code and when it came. */
  readonly closed: Promise<{ code: number; at: number }>;
}

export async function openPidSocket(port: number): Promise<PidSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; at: number }>((resolve) => ws.once('close', (code: number) => resolve({ code, at: Date.now() })));
  const [first] = await once(ws, 'message') as [Buffer];
  return { ws, pid: Number(String(first)), closed };
}
