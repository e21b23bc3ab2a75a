/*
 * What an engine's supervisor does before it binds, in one call, so that every setting that
 * can be wrong about listening fails as one line before anything binds or any worker starts:
 *
 *   const targets = prepareToListen(settings);   // instead of settings.bind.map(parseBind)
 *   const { listeners, addresses } = await bindAll(targets, { backlog: settings.backlog });
 *   dropPrivileges(settings);                     // where the app will run (see privileges.ts)
 *
 * It applies --umask (inherited by workers and threads), builds the TLS context once (a bad
 * certificate or key is ERR_TLS_CONFIG here, in the master), checks --forwarded-allow-ips,
 * --proxy-allow-ips and --user/--group, and decides the targets: the sockets systemd passed
 * (socket activation) when --bind was left at its default, else --bind. Unix socket targets get their mode (0660: owner
 * and group may connect; with --umask, 0666 minus the umask) and, with --user/--group, their
 * owner, so a proxy in that group can connect while the workers run unprivileged.
 */
import { parseBind, type ListenTarget } from './listen.js';
import { SETTINGS, type Settings } from '../settings/table.js';
import { ProxyTrust } from './proxy-headers.js';
import { applyUmask, resolveIdentity, umaskOf } from './privileges.js';
import { takeSocketActivation } from './systemd.js';
import { tlsContextFor } from './tls.js';

const DEFAULT_UNIX_MODE = 0o660;

export function prepareToListen(settings: Readonly<Settings>, env: NodeJS.ProcessEnv = process.env): ListenTarget[] {
  applyUmask(settings);
  tlsContextFor(settings);
  if (settings.proxyHeaders) ProxyTrust.parse(settings.forwardedAllowIps);
  if (settings.proxyProtocol !== 'off') ProxyTrust.parse(settings.proxyAllowIps, '--proxy-allow-ips');
  const identity = resolveIdentity(settings);
  const activation = takeSocketActivation(env);
  const targets: ListenTarget[] = activation !== null && isDefaultBind(settings.bind)
    ? activation.fds.map((fd) => ({ kind: 'fd', fd }))
    : settings.bind.map(parseBind);
  const umask = umaskOf(settings);
  const mode = umask === null ? DEFAULT_UNIX_MODE : 0o666 & ~umask;
  return targets.map((target) => target.kind === 'unix' ? { ...target, mode, uid: identity.uid, gid: identity.gid } : target);
}

function isDefaultBind(bind: readonly string[]): boolean {
  const fallback = SETTINGS.bind.default;
  return bind.length === fallback.length && bind.every((value, i) => value === fallback[i]);
}
