import type { CatalogueEntry } from './entry.js';

/** The control socket and the `serve status|reload|scale|stop` commands that talk to it. */
export const CONTROL_ERRORS = {
  ERR_CONTROL_NOT_CONFIGURED: { status: 500, message: 'No control socket to talk to', hint: 'Give the same --control-socket PATH or --pid FILE the server was started with (flag, config file or GATEHOUSE_* variable), or run the command where its gatehouse.config file is.' },
  ERR_CONTROL_NO_SERVER: { status: 500, message: 'No server answers at the control socket', hint: 'Start one (serve APP --pid FILE, or --control-socket PATH), or point at the running one with the --control-socket / --pid / --config it was started with.' },
  ERR_CONTROL_SOCKET_IN_USE: { status: 500, message: 'The control socket belongs to a running server', hint: 'Stop that server (serve stop with the same --control-socket or --pid), or give this one another --control-socket or --pid.' },
  ERR_CONTROL_SOCKET: { status: 500, message: 'The control socket path cannot be used', hint: 'It must be at most 100 bytes long, in a directory that exists and is writable, with nothing but a socket already at it; or set --control-socket off.' },
  ERR_CONTROL_USAGE: { status: 500, message: 'Bad control command', hint: 'Usage: serve status [--json] | serve reload | serve scale N|+N|-N | serve stop [--fast] [--graceful-timeout SECONDS], with the server\'s --control-socket, --pid or --config.' },
  ERR_CONTROL_REQUEST: { status: 400, message: 'The server did not understand the control request', hint: 'Use the serve command of the same Gatehouse version as the server.' },
} as const satisfies Record<string, CatalogueEntry>;
