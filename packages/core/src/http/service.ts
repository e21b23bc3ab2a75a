/*
 * HttpService is the protocol layer's face to engines: give it accepted sockets, it runs
 * HTTP/1.1 on them and calls the Dispatcher for each request. It knows nothing of processes
 * or threads. The implementation is ConnectionService (connection-service.ts), which runs a
 * Connection (connection.ts, the per-socket state machine) on each socket.
 */
import type { Socket } from 'node:net';
import type { HealthState } from './health.js';

export interface HttpServiceStats {
  readonly connections: number;
  readonly inFlight: number;
  readonly requests: number;
  /** Connections an app took by accepting an upgrade (WebSockets, tunnels); included in `connections`. */
  readonly upgraded: number;
}

export interface HttpService {
  /** Takes ownership of an accepted socket. */
  handle(socket: Socket): void;
  /**
   * Graceful drain: stop keeping connections alive (idle ones close now, busy ones close
   * after their current response), resolve when none is left or after `timeoutMs`, when the
   * rest are destroyed. Upgraded connections (WebSockets) stay until they close; shortly
   * before `timeoutMs` they are ended the protocol's way (close 1001) so clients reconnect. Accepting new sockets is the engine's to stop (server.close()).
   */
  drain(timeoutMs: number): Promise<void>;
  /** Destroys every connection now. */
  destroyAll(): void;
  /**
   * Gives up to `count` idle keep-alive connections back as raw sockets, for a supervisor to
   * hand to another process (each is between requests, nothing buffered, reading stopped).
   * Plain TCP only: with TLS, a PROXY header or --limit-concurrency it returns none.
   */
  releaseIdle(count: number): Socket[];
  /**
   * From now on every connection moves out as a raw socket (reading stopped, nothing buffered)
   * instead of being kept alive or closed: idle ones at once, busy ones once their response is
   * written, each to `release`. For a unit that stops while others serve on (a reload), so no
   * client sees a close. Call it before drain(), which then waits for them. Plain TCP only: with
   * TLS, a PROXY header or --limit-concurrency it does nothing and drain() closes as usual.
   */
  handOff(release: (socket: Socket) => void): void;
  /** Whether releaseIdle() can return anything here (plain TCP), so a supervisor knows whether to ask. */
  readonly releasable: boolean;
  /**
   * During a drain: no request is running and every connection left is long-lived (upgraded,
   * or an HTTP/2 session, which the drain told GOAWAY), so what keeps the unit is only how long
   * those peers stay. False outside a drain and once nothing is left (the drain then ends). A
   * supervisor replacing this unit need not wait for it: no new request will reach it.
   */
  readonly lingering: boolean;
  stats(): HttpServiceStats;
  /** What the health paths answer (health.ts): an engine says here whether a unit is ready, or a drain is announced. */
  readonly health: HealthState;
}
