/*
 * How many CPUs this process may really use: the smaller of its affinity mask and its cgroup's
 * CPU bandwidth quota, at least 1. os.cpus() counts the machine, which in a container or under
 * `taskset` is the wrong answer.
 *
 * The affinity mask is os.availableParallelism() (libuv's uv_available_parallelism, which on
 * Linux counts sched_getaffinity's mask). The libuv in Node 20 reads no cgroup quota (later
 * versions floor it), so the quota is read here: from /proc/self/cgroup, the process's cgroup
 * under the cgroup mount, and every ancestor up to the mount (a limit may sit on a parent, as
 * a Kubernetes pod's does), taking the tightest. cgroup v2 keeps it in `cpu.max` ("QUOTA
 * PERIOD" or "max PERIOD"), v1 in `cpu.cfs_quota_us` (-1 = none) and `cpu.cfs_period_us`. A
 * fractional quota rounds up: 1.5 CPUs of quota keep two event loops busier than one.
 * Unreadable or malformed files count as no limit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Reads the cgroup files under this directory instead of /sys/fs/cgroup. For tests: a fake quota needs no root. */
export const CGROUP_ROOT_VARIABLE = 'GATEHOUSE_CGROUP_ROOT';
const CGROUP_ROOT = '/sys/fs/cgroup';
const PROC_SELF_CGROUP = '/proc/self/cgroup';

export interface CpuQuota {
  readonly quota: number;
  readonly period: number;
  /** The file it was read from (cpu.max, or cpu.cfs_quota_us under v1). */
  readonly file: string;
  /** quota / period, rounded up. */
  readonly cpus: number;
}

export interface UsableCpus {
  readonly count: number;
  readonly affinity: number;
  /** The tightest cgroup quota, if any applies. */
  readonly quota?: CpuQuota;
  /** e.g. "2 usable CPUs: cgroup quota 200000/100000 in /sys/fs/cgroup/cpu.max; affinity mask 4 CPUs". */
  readonly why: string;
}

export interface UsableCpusOptions {
  /** Default: os.availableParallelism(). */
  readonly affinity?: number;
  /** Default: $GATEHOUSE_CGROUP_ROOT, else /sys/fs/cgroup. */
  readonly cgroupRoot?: string;
  /** The text of /proc/self/cgroup (default: read it). */
  readonly procSelfCgroup?: string;
}

export function usableCpus(options: UsableCpusOptions = {}): UsableCpus {
  const affinity = Math.max(1, options.affinity ?? os.availableParallelism());
  const root = options.cgroupRoot ?? (process.env[CGROUP_ROOT_VARIABLE] || CGROUP_ROOT);
  const membership = options.procSelfCgroup ?? readText(PROC_SELF_CGROUP) ?? '';
  const quota = tightestQuota(root, membership);
  const count = Math.max(1, Math.min(affinity, quota?.cpus ?? Infinity));
  const parts = [
    ...(quota ? [`cgroup quota ${quota.quota}/${quota.period} in ${quota.file}`] : ['no cgroup CPU quota']),
    `affinity mask ${affinity} CPU${affinity === 1 ? '' : 's'}`,
  ];
  return { count, affinity, quota, why: `${count} usable CPU${count === 1 ? '' : 's'}: ${parts.join('; ')}` };
}

function tightestQuota(root: string, membership: string): CpuQuota | undefined {
  let best: CpuQuota | undefined;
  const consider = (found: CpuQuota | undefined) => {
    if (found && (!best || found.quota / found.period < best.quota / best.period)) best = found;
  };
  // Lines are "ID:CONTROLLERS:PATH"; v2's is "0::PATH", a v1 cpu hierarchy lists "cpu" among its controllers.
  for (const line of membership.split('\n')) {
    const match = /^(\d+):([^:]*):(\/.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, cgroupPath] = match as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') {
      for (const dir of upToMount(root, cgroupPath)) consider(readV2(dir));
    } else if (controllers.split(',').includes('cpu')) {
      // The v1 cpu hierarchy is mounted as "cpu,cpuacct", "cpu" (often both, one a symlink).
      for (const mount of new Set([controllers, 'cpu,cpuacct', 'cpu'])) {
        for (const dir of upToMount(path.join(root, mount), cgroupPath)) consider(readV1(dir));
      }
    }
  }
  return best;
}

/** The cgroup's directory and each parent up to the mount. A path that is not under this mount (a container without a cgroup namespace sees its host path) still reaches the mount itself. */
function upToMount(mount: string, cgroupPath: string): string[] {
  const dirs: string[] = [];
  let relative = path.posix.normalize(cgroupPath);
  for (;;) {
    dirs.push(path.join(mount, relative));
    if (relative === '/' || relative === '.') return dirs;
    relative = path.posix.dirname(relative);
  }
}

function readV2(dir: string): CpuQuota | undefined {
  const file = path.join(dir, 'cpu.max');
  const match = /^(\d+|max)\s+(\d+)\s*$/.exec(readText(file) ?? '');
  if (!match || match[1] === 'max') return undefined;
  return quotaOf(Number(match[1]), Number(match[2]), file);
}

function readV1(dir: string): CpuQuota | undefined {
  const file = path.join(dir, 'cpu.cfs_quota_us');
  const quota = Number((readText(file) ?? '').trim());
  const period = Number((readText(path.join(dir, 'cpu.cfs_period_us')) ?? '').trim());
  return quotaOf(quota, period, file);
}

function quotaOf(quota: number, period: number, file: string): CpuQuota | undefined {
  if (!Number.isSafeInteger(quota) || !Number.isSafeInteger(period) || quota <= 0 || period <= 0) return undefined;
  return { quota, period, file, cpus: Math.ceil(quota / period) };
}

function readText(file: string): string | undefined {
  try { return fs.readFileSync(file, 'utf8'); } catch { return undefined; }
}
