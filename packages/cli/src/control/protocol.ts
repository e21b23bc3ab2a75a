/*
 * The control protocol: one JSON request per connection on a unix stream socket, then one JSON
 * answer, each ended by the writer half-closing. Both are tagged unions carrying the protocol
 * version `v`; a server answers a request of another version, or one it cannot parse, with
 * ERR_CONTROL_REQUEST instead of guessing. Requests are tiny, so anything past MAX_REQUEST_BYTES
 * is refused unread.
 */
import type { EngineStats, UnitStats } from '@gatehouse/core';

export const CONTROL_PROTOCOL_VERSION = 1;
export const MAX_REQUEST_BYTES = 4096;

export type ControlRequest =
  | { readonly v: 1; readonly command: 'status' }
  | { readonly v: 1; readonly command: 'reload' }
  /** `delta` adds or removes units; `to` sets the count. Exactly one is given. */
  | { readonly v: 1; readonly command: 'scale'; readonly delta?: number; readonly to?: number }
  /** graceful: finish in-flight requests within `timeout` seconds (default --graceful-timeout). */
  | { readonly v: 1; readonly command: 'stop'; readonly graceful: boolean; readonly timeout?: number };

/** UnitStats as the status document shows them: without the opaque per-unit metrics. */
export type StatusUnit = Omit<UnitStats, 'metrics' | 'children'> & { readonly children?: readonly StatusUnit[] };

export interface StatusDocument extends Omit<EngineStats, 'units'> {
  /** When the status was taken and when the master started (ms since the epoch). */
  readonly now: number;
  readonly startedAt: number;
  readonly addresses: readonly string[];
  readonly units: readonly StatusUnit[];
}

export type ControlResponse =
  | { readonly v: 1; readonly ok: true; readonly command: 'status'; readonly status: StatusDocument }
  | { readonly v: 1; readonly ok: true; readonly command: 'reload'; readonly generation: number }
  | { readonly v: 1; readonly ok: true; readonly command: 'scale'; readonly before: number; readonly units: number }
  /** Sent when the stop has been accepted; the server exits after it. */
  | { readonly v: 1; readonly ok: true; readonly command: 'stop'; readonly pid: number }
  /** `line` is the error's one terminal line: code, problem and fix. */
  | { readonly v: 1; readonly ok: false; readonly error: { readonly code: string; readonly line: string } };

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

/** The request in `text`, or a sentence saying what is wrong with it. */
export function parseRequest(text: string): ControlRequest | string {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'not JSON';
  }
  if (typeof data !== 'object' || data === null) return 'not a JSON object';
  if (data.v !== CONTROL_PROTOCOL_VERSION) return `protocol version ${JSON.stringify(data.v)}; this server speaks ${CONTROL_PROTOCOL_VERSION}`;
  switch (data.command) {
    case 'status':
    case 'reload':
      return { v: 1, command: data.command };
    case 'scale':
      if (isCount(data.delta) && data.to === undefined && data.delta !== 0) return { v: 1, command: 'scale', delta: data.delta };
      if (isCount(data.to) && data.delta === undefined && data.to >= 1) return { v: 1, command: 'scale', to: data.to };
      return 'scale takes a non-zero integer delta or an integer to >= 1';
    case 'stop':
      if (typeof data.graceful !== 'boolean') return 'stop takes graceful: true or false';
      if (data.timeout !== undefined && !(typeof data.timeout === 'number' && data.timeout >= 0)) return 'stop timeout must be a number of seconds >= 0';
      return { v: 1, command: 'stop', graceful: data.graceful, ...(data.timeout !== undefined ? { timeout: data.timeout } : {}) };
    default:
      return `unknown command ${JSON.stringify(data.command)}`;
  }
}
