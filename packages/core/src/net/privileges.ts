/*
 * Running as root only as long as needed: bind privileged ports (and read a root-only TLS key)
 * as root, then switch to --user / --group before any app code runs, as Gunicorn's workers do.
 * Where it happens is the engine's business (the process that will run the app, after its
 * listeners exist): the single engine after binding, the threaded engine before its app
 * threads start, each prefork/hybrid worker process before it loads the app. The prefork
 * master stays root; it runs no app code and may need root to clean up (the socket file, the
 * pid file).
 *
 * Names are resolved with getent (NSS: /etc/passwd, LDAP, ...); numeric ids are taken as they
 * are. --user without --group takes the user's primary group; supplementary groups are the
 * user's (initgroups), so group-readable files keep working.
 */
import { execFileSync } from 'node:child_process';
import { GatehouseError } from '../errors/index.js';
import type { Settings } from '../settings/table.js';
import { tlsContextFor } from './tls.js';

export interface ProcessIdentity {
  readonly uid?: number;
  readonly gid?: number;
  /** For initgroups: the user's name, when --user named one. */
  readonly userName?: string;
}

type IdentitySettings = Pick<Settings, 'user' | 'group'>;

const NUMERIC = /^\d+$/;

/** --user / --group as numeric ids; throws ERR_USER_UNKNOWN. Empty when neither is set. */
export function resolveIdentity(settings: Readonly<IdentitySettings>): ProcessIdentity {
  let uid: number | undefined;
  let gid: number | undefined;
  let userName: string | undefined;
  if (settings.user) {
    const entry = getent('passwd', settings.user);
    if (entry === null) {
      if (!NUMERIC.test(settings.user)) throw new GatehouseError('ERR_USER_UNKNOWN', `--user ${settings.user}: no such user`);
      uid = Number(settings.user);
    } else {
      userName = entry[0];
      uid = Number(entry[2]);
      gid = Number(entry[3]);
    }
  }
  if (settings.group) {
    const entry = getent('group', settings.group);
    if (entry === null) {
      if (!NUMERIC.test(settings.group)) throw new GatehouseError('ERR_USER_UNKNOWN', `--group ${settings.group}: no such group`);
      gid = Number(settings.group);
    } else {
      gid = Number(entry[2]);
    }
  }
  return { uid, gid, userName };
}

/** The fields of one getent line, or null when there is no such entry. */
function getent(database: 'passwd' | 'group', key: string): string[] | null {
  try {
    const line = execFileSync('getent', [database, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0] ?? '';
    const fields = line.split(':');
    return fields.length >= 3 ? fields : null;
  } catch {
    return null; // exit 2: no such entry (or no getent: numeric ids still work)
  }
}

/**
 * Switches this process to --user / --group (no-op when neither is set or when it already runs
 * as them). Loads the TLS context first, so a key only root can read is read while we are root.
 * Call it on the main thread (process.setuid does not exist in worker threads).
 */
export function dropPrivileges(settings: Readonly<Settings>): void {
  if (!settings.user && !settings.group) return;
  tlsContextFor(settings);
  const identity = resolveIdentity(settings);
  const uid = process.getuid!();
  const gid = process.getgid!();
  const needUid = identity.uid !== undefined && identity.uid !== uid;
  const needGid = identity.gid !== undefined && identity.gid !== gid;
  if (!needUid && !needGid) return;
  if (uid !== 0) {
    throw new GatehouseError('ERR_PRIVILEGES', `running as uid ${uid}, not root: cannot switch to ${settings.user ? `user ${settings.user}` : ''}${settings.user && settings.group ? ', ' : ''}${settings.group ? `group ${settings.group}` : ''}`);
  }
  try {
    // Groups before the user: once the uid is not root, the groups can no longer change.
    if (identity.gid !== undefined) {
      if (identity.userName !== undefined) (process as unknown as { initgroups(user: string, group: number): void }).initgroups(identity.userName, identity.gid);
      else process.setgroups!([identity.gid]);
      process.setgid!(identity.gid);
    }
    if (identity.uid !== undefined) process.setuid!(identity.uid);
  } catch (error) {
    throw new GatehouseError('ERR_PRIVILEGES', (error as Error).message, { cause: error });
  }
}

/** --umask for this process and the children it starts; a no-op when unset. */
export function applyUmask(settings: Readonly<Pick<Settings, 'umask'>>): void {
  const mask = umaskOf(settings);
  if (mask !== null) process.umask(mask);
}

/** The --umask value, or null when unset. */
export function umaskOf(settings: Readonly<Pick<Settings, 'umask'>>): number | null {
  if (!settings.umask) return null;
  return parseInt(settings.umask.replace(/^0o/, ''), 8);
}
