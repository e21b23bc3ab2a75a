import type { CatalogueEntry } from './entry.js';

/** Loading and running the application, and the Gateway Interface contract. */
export const APP_ERRORS = {
  ERR_APP_NOT_FOUND: { status: 500, message: 'App module not found', hint: 'Check the path: it is resolved from the current directory (serve path/to/app.js, a directory with a package.json "main", or path:export).' },
  ERR_APP_EXPORT_MISSING: { status: 500, message: 'App module has no such export', hint: 'Name an existing export (path:name) or add a default export.' },
  ERR_APP_NOT_AN_APP: { status: 500, message: 'Export is not an application', hint: 'Export a function (request) => response, an object with fetch(request), or a node:http listener (req, res); see docs/gateway-interface.md.' },
  ERR_APP_FACTORY_THREW: { status: 500, message: 'App factory threw', hint: 'Fix the error thrown by the factory; the app\'s own stack is part of this message.' },
  ERR_APP_SYNTAX: { status: 500, message: 'App module has a syntax error', hint: 'Fix the syntax error at the location shown (node --check FILE shows it too).' },
  ERR_APP_IMPORT_FAILED: { status: 500, message: 'App module threw while loading', hint: 'Fix the error raised at import time; the app\'s own stack is part of this message.' },
  ERR_APP_TYPESCRIPT: { status: 500, message: 'Cannot load a TypeScript app directly', hint: 'Compile it to JavaScript (tsc) and serve the .js file, or register a TypeScript loader: NODE_OPTIONS="--import tsx" serve app.ts.' },
  ERR_APP_LISTENS: { status: 500, message: 'App module calls listen() itself', hint: 'Gatehouse binds the addresses (--bind) and calls the app: drop the listen() call and export the app as shown; a server of your own beside the app can start in startup(). See "Frameworks" in docs/gateway-interface.md.' },
  ERR_APP_BAD_HOOK: { status: 500, message: 'App lifecycle hook is not a function', hint: 'Export startup and shutdown as functions (async is fine), or remove them.' },
  ERR_APP_STARTUP_FAILED: { status: 500, message: 'App startup() failed', hint: 'Fix the error raised by the app\'s startup hook; the app\'s own stack is part of this message.' },
  ERR_APP_THREW: { status: 500, message: 'Application raised an error', hint: 'See the error log for the stack; set --debug to return it to the client during development.' },
  ERR_APP_BAD_RESPONSE: { status: 500, message: 'Application returned an invalid response', hint: 'Return { status, headers, body } as docs/gateway-interface.md describes.' },
  ERR_APP_BAD_HEADER: { status: 500, message: 'Application returned an invalid response header', hint: 'Header names must be tokens and values must not contain CR, LF or NUL.' },
  ERR_APP_BAD_INTERIM: { status: 500, message: 'Application sent an invalid interim response', hint: 'request.sendInterim(status, headers) takes a 1xx status other than 100 (the server\'s, for Expect: 100-continue) and 101 (an accepted upgrade\'s): in practice 103 Early Hints.' },
  ERR_APP_ADAPTER_UNSUPPORTED: { status: 500, message: 'The app used an API the fetch or node:http adapter does not provide', hint: 'See "Adapters" in docs/gateway-interface.md for what is provided and the alternative (stream the response instead of writing to the socket; no trailers or interim responses; for WebSockets export the http.Server and use its upgrade listeners).' },
  ERR_APP_UPGRADE_UNREACHABLE: { status: 500, message: 'An upgrade request reached a request listener; the upgrade listeners are on a server that is not served', hint: 'Export the http.Server that ws or socket.io is attached to (export default server) instead of the Express app: Gatehouse serves its request, upgrade and connect listeners without listen(). See "node:http listeners" in docs/gateway-interface.md.' },
  ERR_APP_BAD_UPGRADE: { status: 500, message: 'Application accepted an upgrade wrongly', hint: 'Accept a WebSocket only when request.upgrade.protocol is "websocket", once, with a subprotocol the client offered; accept other upgrades with acceptStream() (status 101, or a 2xx for CONNECT). See "Upgrades and WebSockets" in docs/gateway-interface.md.' },
  ERR_APP_CONTRACT: { status: 500, message: 'Gateway Interface contract violated', hint: 'See docs/gateway-interface.md for what the validator checks.' },
} as const satisfies Record<string, CatalogueEntry>;
