/*
 * `serve status [--json]`, `serve reload`, `serve scale N|+N|-N`, `serve stop [--fast]`: the
 * commands an operator runs against a running server. The socket is found from the same
 * settings the server read (--control-socket, --pid, --config, GATEHOUSE_* variables), so the
 * command line that started a server, with the command word in front, also reaches it.
 *
 * `stop` returns once the server's process has exited (or says it has not, within
 * --graceful-timeout and a margin). Exit codes: 0 done; 1 no server there, or the server
 * could not do it; 2 usage.
 */
import { GatehouseError } from '@gatehouse/core';
import { errorLine } from '../server.js';
import { loadSettings } from '../load-settings.js';
import { exchange } from './exchange.js';
import type { ControlRequest, ControlResponse } from './protocol.js';
import { controlSocketPath } from './socket-path.js';
import { statusTable } from './status-table.js';

export const CONTROL_COMMANDS = ['status', 'reload', 'scale', 'stop'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export function isControlCommand(word: string | undefined): word is ControlCommand {
  return (CONTROL_COMMANDS as readonly string[]).includes(word ?? '');
}

/** Flags of each command that are not settings. */
const OWN_FLAGS: Record<ControlCommand, readonly string[]> = { status: ['--json'], reload: [], scale: [], stop: ['--fast'] };

/** A reload or scale lasts as long as the app takes to boot; status answers at once. */
const ANSWER_TIMEOUT_MS = { status: 10_000, other: 600_000 };
const STOP_MARGIN_S = 10;

export const CONTROL_USAGE = `Usage: serve status [--json] | serve reload | serve scale N|+N|-N | serve stop [--fast] [--graceful-timeout SECONDS]
Talk to a running server over its control socket, found from --control-socket PATH, or --pid FILE
(FILE.sock), given as flags, in the config file or as GATEHOUSE_* variables, as for the server.
See docs/deployment.md, "Operating a running server".`;

interface Output { out(text: string): void; err(text: string): void }
const STDIO: Output = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

export async function controlMain(command: ControlCommand, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string, io: Output = STDIO): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { io.out(`${CONTROL_USAGE}\n`); return 0; }
  const rest = [...args];
  const own = new Set<string>();
  for (const flag of OWN_FLAGS[command]) {
    const at = rest.indexOf(flag);
    if (at !== -1) { own.add(flag); rest.splice(at, 1); }
  }
  let request: ControlRequest;
  let socketPath: string;
  let stopWaitS = 0;
  try {
    if (command === 'scale') request = scaleRequest(rest.shift());
    else if (command === 'stop') request = { v: 1, command: 'stop', graceful: !own.has('--fast') };
    else request = { v: 1, command };
    const { settings, sources } = await loadSettings(rest, env, cwd);
    const path = controlSocketPath(settings, cwd);
    if (!path) throw new GatehouseError('ERR_CONTROL_NOT_CONFIGURED', settings.controlSocket === 'off' ? 'the control socket is off (--control-socket off)' : 'neither --control-socket nor --pid is set');
    socketPath = path;
    if (request.command === 'stop') {
      // --graceful-timeout on this command line is the deadline for this stop.
      if (sources.gracefulTimeout.kind === 'cli') request = { ...request, timeout: settings.gracefulTimeout };
      stopWaitS = settings.gracefulTimeout + STOP_MARGIN_S;
    }
  } catch (error) {
    io.err(`serve ${command}: ${errorLine(error)}\n`);
    return 2;
  }
  let response: ControlResponse;
  try {
    response = await exchange(socketPath, request, command === 'status' ? ANSWER_TIMEOUT_MS.status : ANSWER_TIMEOUT_MS.other);
  } catch (error) {
    io.err(`serve ${command}: ${errorLine(noServer(socketPath, error))}\n`);
    return 1;
  }
  if (!response.ok) {
    io.err(`serve ${command}: ${response.error.line}\n`);
    return 1;
  }
  switch (response.command) {
    case 'status':
      io.out(own.has('--json') ? `${JSON.stringify(response.status, null, 2)}\n` : statusTable(response.status));
      return 0;
    case 'reload':
      io.out(`reloaded: generation ${response.generation} is serving\n`);
      return 0;
    case 'scale':
      io.out(`units: ${response.before} -> ${response.units}${response.before === response.units ? ' (unchanged; see the server log)' : ''}\n`);
      return 0;
    case 'stop': {
      io.out(`stopping server pid ${response.pid}\n`);
      if (await exited(response.pid, stopWaitS * 1000)) { io.out('stopped\n'); return 0; }
      io.err(`serve stop: pid ${response.pid} is still running after ${stopWaitS} s; serve stop --fast, or kill -INT ${response.pid}\n`);
      return 1;
    }
  }
}

/** `N` sets the count; `+N` / `-N` add or remove. */
function scaleRequest(word: string | undefined): ControlRequest {
  const match = /^([+-]?)(\d{1,4})$/.exec(word ?? '');
  if (!match) throw new GatehouseError('ERR_CONTROL_USAGE', word === undefined ? 'scale needs a count: N, +N or -N' : `scale ${word}: expected N, +N or -N`);
  const n = Number(match[2]);
  if (match[1] === '') {
    if (n < 1) throw new GatehouseError('ERR_CONTROL_USAGE', 'scale 0: at least one unit is needed (serve stop stops the server)');
    return { v: 1, command: 'scale', to: n };
  }
  if (n === 0) throw new GatehouseError('ERR_CONTROL_USAGE', `scale ${word}: nothing to change`);
  return { v: 1, command: 'scale', delta: match[1] === '-' ? -n : n };
}

function noServer(socketPath: string, error: unknown): GatehouseError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such socket'
    : code === 'ECONNREFUSED' ? 'the socket is left from a server that is gone'
      : code === 'EACCES' ? 'permission denied (the socket is 0600: run this as the server\'s user)'
        : (error as Error).message;
  return new GatehouseError('ERR_CONTROL_NO_SERVER', `${socketPath}: ${why}`, { cause: error });
}

/** Polls until the process is gone; false if it outlives the deadline. */
async function exited(pid: number, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try { process.kill(pid, 0); } catch (error) { if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true; }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
