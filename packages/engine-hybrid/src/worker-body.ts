/*
 * WORKER PROCESS. The body a hybrid worker process runs, plugged into the prefork engine's
 * worker (PreforkOptions.workerEntry names this module; its default export is the
 * WorkerBodyFactory): instead of running the app on this process's event loop, it runs the
 * threaded engine's ThreadedServer on the listeners the master handed over — core's
 * HttpService on this main thread, a supervised pool of `--threads` app threads behind it.
 *
 * Two supervisors, each on its own level, and neither knows of the other. The prefork master
 * watches this process: heartbeats from this main thread (which only does I/O, so it keeps
 * beating while an app thread is stuck), crashes, RSS against --max-worker-memory, reload and
 * scale. The pool here watches its threads: heartbeats from each app thread (a stuck one is
 * terminated and replaced), --request-timeout, crashes, --max-requests and --max-thread-memory.
 * So --max-requests recycles app threads, the unit that holds the app's heap, and this body
 * does not count requests toward recycling the whole process (it never calls
 * context.requestStarted); a stuck request is named by the pool's own log line.
 */
import type net from 'node:net';
import type { UnitStats } from '@gatehouse/core';
import type { HealthState } from '@gatehouse/core/internal';
import type { WorkerBody, WorkerBodyContext, WorkerBodyFactory, WorkerBodyStats } from '@gatehouse/engine-prefork';
import { ThreadedServer } from '@gatehouse/engine-threaded';

/** What the hybrid engine passes its workers as PreforkOptions.workerData. */
export interface HybridWorkerData {
  /** EngineContext.setupModules: each app thread imports them too (the CLI's logging). */
  readonly setupModules: readonly string[];
}

class ThreadPoolBody implements WorkerBody {
  readonly #server: ThreadedServer;

  constructor(context: WorkerBodyContext) {
    const data = context.data as HybridWorkerData | undefined;
    this.#server = new ThreadedServer({
      settings: context.settings,
      app: { kind: 'module', spec: context.app.spec, cwd: context.app.cwd },
      setupModules: data?.setupModules ?? [],
      engineName: 'hybrid',
    });
  }

  /** Boots every app thread (each loads the app and runs startup()); rejects with the app's error. */
  boot(): Promise<void> {
    return this.#server.start();
  }

  attach(listener: net.Server): void {
    this.#server.attach(listener);
  }

  handle(socket: net.Socket): void {
    this.#server.service.handle(socket);
  }

  /** Closes this process's copies of the listeners, drains or drops connections, runs shutdown() in every app thread. */
  close(graceful: boolean, timeoutMs: number): Promise<void> {
    return this.#server.close(graceful, timeoutMs);
  }

  shed(count: number): net.Socket[] {
    return this.#server.service.releaseIdle(count);
  }

  handOff(release: (socket: net.Socket) => void): void {
    this.#server.service.handOff(release);
  }

  get lingering(): boolean {
    return this.#server.service.lingering;
  }

  get health(): HealthState {
    return this.#server.service.health;
  }

  stats(): WorkerBodyStats {
    const { requests, inFlight, upgraded, connections } = this.#server.service.stats();
    const children: UnitStats[] = this.#server.units();
    // Upgraded connections count as in flight, as they do for each app thread, and on their own.
    return { requests, inFlight: inFlight + upgraded, upgraded, connections: this.#server.service.releasable ? connections : undefined, children, queueDepth: this.#server.dispatcher.queueDepth };
  }
}

const createThreadPoolBody: WorkerBodyFactory = (context) => new ThreadPoolBody(context);
export default createThreadPoolBody;
