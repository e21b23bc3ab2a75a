import type { CatalogueEntry } from './entry.js';

/** Engines: listeners, workers, threads and supervision. */
export const ENGINE_ERRORS = {
  ERR_ENGINE_UNKNOWN: { status: 500, message: 'Unknown engine', hint: 'Use single, prefork, threaded, hybrid, or a package/path that exports an engine class.' },
  ERR_ENGINE_INVALID: { status: 500, message: 'Module does not export an engine', hint: 'Export a class implementing the Engine interface from @gatehouse/core (default export or `engine`).' },
  ERR_ENGINE_NOT_INJECTABLE: { status: 500, message: 'Engine class cannot be constructed by the container', hint: 'Declare what its constructor takes, as the built-in engines do: @injectable() on the class and @inject(TOKENS.EngineContext) on the parameter (plain JavaScript: decorate() from inversify); see docs/engines.md, "Writing your own engine".' },
  ERR_BIND_FAILED: { status: 500, message: 'Could not listen', hint: 'Pick another address or port, or stop the process that holds it.' },
  ERR_BIND_DENIED: { status: 500, message: 'Not permitted to listen on this port', hint: 'Ports below 1024 need privileges: pick a port >= 1024 (behind a proxy or load balancer), grant node CAP_NET_BIND_SERVICE (setcap cap_net_bind_service=+ep "$(command -v node)", or AmbientCapabilities= in a systemd unit), or start as root with --user/--group, which drops privileges after binding.' },
  ERR_LISTEN_FDS: { status: 500, message: 'Inherited sockets are unusable', hint: 'LISTEN_FDS/LISTEN_PID (systemd socket activation) or fd://N must name open listening sockets passed to this process.' },
  ERR_SYSTEMD_NOTIFY: { status: 500, message: 'Could not notify systemd', hint: 'NOTIFY_SOCKET is set (Type=notify), and messages to systemd are sent with systemd-notify(1): install systemd (it is on every host systemd runs), set NotifyAccess=all in the unit, or use Type=simple.' },
  ERR_PRIVILEGES: { status: 500, message: 'Could not switch user or group', hint: 'Start as root to use --user/--group, or leave them unset.' },
  ERR_ENGINE_NOT_STARTED: { status: 500, message: 'Engine is not running', hint: 'Call start() first.' },
  ERR_WORKER_BOOT_FAILED: { status: 500, message: 'Workers could not boot the app', hint: 'Fix the app error shown above; the server stopped instead of restarting workers in a loop.' },
  ERR_APP_NEEDS_MODULE: { status: 500, message: 'This engine needs the app as a module specifier', hint: 'Pass app: "path/to/app.js" (functions cannot cross process or thread boundaries).' },
  ERR_THREAD_CRASHED: { status: 500, message: 'App thread crashed while handling the request', hint: 'See the error log for the uncaught exception (often thrown in a timer or callback); the thread was replaced.' },
  ERR_THREAD_STUCK: { status: 503, message: 'App thread stopped responding', hint: 'A handler blocked its thread\'s event loop for longer than --timeout; the thread was replaced. Move blocking work off the event loop or raise --timeout.' },
  ERR_THREAD_OUT_OF_MEMORY: { status: 503, message: 'App thread ran out of memory', hint: 'Raise --max-thread-memory or find the leak; the thread was replaced.' },
  ERR_RELOAD_FAILED: { status: 500, message: 'Reload failed: the new generation of workers could not boot the app', hint: 'The previous version keeps serving. Fix the app error shown and reload again.' },
} as const satisfies Record<string, CatalogueEntry>;
