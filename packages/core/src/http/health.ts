/*
 * Health and readiness answered by the server itself (--health-path, --liveness-path), before
 * the Dispatcher: the app is never called for them, so they answer while every app thread is
 * busy or the app is stuck in a request. Only GET and HEAD on the exact path (any query is
 * ignored; an absolute-form target is the app's); another method gets 405. The response goes
 * out as any other (keep-alive, HEAD, pipelining, Connection: close while draining), with
 * `Cache-Control: no-store` so no cache between a probe and the server answers for it.
 *
 *   readiness  200 "ready"          the server takes work: not draining, and a unit can run the app
 *              503 "draining"       a graceful stop began, or this unit's generation is draining
 *                                   (a reload replaced it): a load balancer stops sending here
 *              503 "no unit ready"  every unit that runs the app is booting or being replaced
 *   liveness   200 "live"           a unit can run the app (draining does not change it: a
 *                                   server finishing its requests is alive)
 *              503 "no unit ready"
 *
 * The protocol layer knows nothing of processes or threads: engines set a HealthState (which
 * units are ready; a drain announced before the service drains), and the service's own drain
 * counts as draining too.
 */
import type { GatewayResponse } from '../gateway/types.js';

export interface HealthPaths {
  /** Readiness path ('' = off). */
  readonly readiness: string;
  /** Liveness path ('' = off). */
  readonly liveness: string;
}

/** What engines tell the health answers; the defaults suit a unit that runs the app on its own loop. */
export class HealthState {
  /** Whether a unit can run the app now (threaded: an app thread of the serving generation is ready). */
  unitsReady: () => boolean = () => true;
  /** Set when a stop or drain is announced before this service drains (a master telling its workers). */
  draining = false;
}

const HEADERS = [['content-type', 'text/plain; charset=utf-8'], ['cache-control', 'no-store']] as const;

function answer(status: number, text: string): GatewayResponse {
  return { status, headers: HEADERS, body: `${text}\n` };
}

const READY = answer(200, 'ready');
const LIVE = answer(200, 'live');
const DRAINING = answer(503, 'draining');
const NO_UNIT = answer(503, 'no unit ready');
const NOT_ALLOWED: GatewayResponse = { status: 405, headers: [...HEADERS, ['allow', 'GET, HEAD']], body: 'the health paths answer GET and HEAD\n' };

/** The health answers of one HttpService. */
export class HealthCheck {
  readonly state = new HealthState();
  readonly #readiness: string;
  readonly #liveness: string;

  constructor(paths: HealthPaths) {
    this.#readiness = paths.readiness;
    this.#liveness = paths.liveness;
  }

  get enabled(): boolean {
    return this.#readiness !== '' || this.#liveness !== '';
  }

  /** The server's answer when `target` is a health path, else null (the request goes to the app). */
  respond(method: string, target: string, serviceDraining: boolean): GatewayResponse | null {
    const path = pathOf(target);
    const readiness = path === this.#readiness && path !== '';
    if (!readiness && (path !== this.#liveness || path === '')) return null;
    if (method !== 'GET' && method !== 'HEAD') return NOT_ALLOWED;
    const live = this.state.unitsReady();
    if (!readiness) return live ? LIVE : NO_UNIT;
    if (serviceDraining || this.state.draining) return DRAINING;
    return live ? READY : NO_UNIT;
  }
}

/** The path of an origin-form target, without its query; '' for other forms (never a health path). */
function pathOf(target: string): string {
  if (target.charCodeAt(0) !== 0x2f /* / */) return '';
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

/** Why a --health-path / --liveness-path value is unusable, or undefined. */
export function healthPathProblem(value: string): string | undefined {
  if (value === '') return undefined;
  return /^\/[!$&'()*+,;=:@\-._~%A-Za-z0-9/]*$/.test(value) ? undefined : 'an absolute path such as /healthz (no query, no spaces), or empty for off';
}
