/*
 * Which app thread ran a request. requestEnd is published where the HTTP happens (the main
 * thread), while the threaded engine runs the app on a thread only its dispatcher knows: the
 * engine records it here (only while requestEnd has subscribers), and requestEnd carries it.
 */
import type { GatewayRequest } from './gateway/types.js';
import { channels } from './diagnostics.js';

const requestUnits = new WeakMap<GatewayRequest, number>();

export function recordRequestUnit(request: GatewayRequest, unit: number): void {
  if (channels.requestEnd.hasSubscribers) requestUnits.set(request, unit);
}

export function requestUnit(request: GatewayRequest): number | undefined {
  return requestUnits.get(request);
}
