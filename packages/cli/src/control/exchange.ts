/*
 * The client half of one control exchange: connect to the unix socket, write the request,
 * half-close, read the answer to its end. Connection errors are left as they are (ENOENT,
 * ECONNREFUSED, EACCES) so the caller can tell "no server" from "not allowed".
 */
import net from 'node:net';
import type { ControlRequest, ControlResponse } from './protocol.js';

export function exchange(file: string, request: ControlRequest, timeoutMs: number): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(file);
    let text = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    socket.on('connect', () => socket.end(JSON.stringify(request)));
    socket.on('data', (chunk: string) => { text += chunk; });
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        resolve(JSON.parse(text) as ControlResponse);
      } catch {
        reject(Object.assign(new Error(`the answer is not JSON: ${text.slice(0, 80)}`), { code: 'EPROTO' }));
      }
    });
  });
}
