import type { CatalogueEntry } from './catalogue.js';

/** Engines: listeners, workers, threads and supervision. */
export const ENGINE_ERRORS = {
  ERR_ENGINE_UNKNOWN: { status: 500, message: 'Unknown engine', hint: 'Use prefork, threaded, hybrid, or a package/path that exports an engine class.' },
  ERR_ENGINE_INVALID: { status: 500, message: 'Module does not export an engine', hint: 'Export a class implementing the Engine interface from @gatehouse/core (default export or `engine`).' },
  ERR_BIND_FAILED: { status: 500, message: 'Could not listen', hint: 'Pick another address or port, or stop the process that holds it.' },
  ERR_ENGINE_NOT_STARTED: { status: 500, message: 'Engine is not running', hint: 'Call start() first.' },
  ERR_WORKER_BOOT_FAILED: { status: 500, message: 'Workers could not boot the app', hint: 'Fix the app error shown above; the server stopped instead of restarting workers in a loop.' },
  ERR_APP_NEEDS_MODULE: { status: 500, message: 'This engine needs the app as a module specifier', hint: 'Pass app: "path/to/app.js" (functions cannot cross process or thread boundaries).' },
} as const satisfies Record<string, CatalogueEntry>;
