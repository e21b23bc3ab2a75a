/*
 * What a server costs, read from /proc: the whole process tree under a root pid (prefork's
 * workers, hybrid's, node:cluster's), its CPU time and its resident memory. Threads live inside
 * their process, so /proc/PID/stat already counts a threaded engine's app threads.
 *
 * CPU is utime+stime plus cutime+cstime (children already reaped, e.g. a recycled worker), in
 * clock ticks of USER_HZ, which is 100 on every Linux that Node supports. Memory is the sum of
 * VmRSS over the live tree; pages shared between processes (the node binary) are counted once
 * per process, as `ps` and `top` do. On a platform without /proc every figure is NaN.
 */
import { readFileSync, readdirSync } from 'node:fs';

const USER_HZ = 100;

interface StatLine {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in seconds. */
  readonly cpuSec: number;
}

/** Parses /proc/PID/stat: the comm field may hold spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): StatLine | null {
  const close = text.lastIndexOf(')');
  if (close === -1) return null;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // Fields after comm, numbered from 3 (state) as in proc(5).
  const fields = text.slice(close + 2).trim().split(' ');
  const at = (n: number) => Number(fields[n - 3]);
  const ticks = at(14) + at(15) + at(16) + at(17);
  return { pid, ppid: at(4), cpuSec: ticks / USER_HZ };
}

function readStat(pid: number): StatLine | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // exited between listing and reading
  }
}

function readRssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const procAvailable = (() => {
  try { readFileSync('/proc/self/stat'); return true; } catch { return false; }
})();

let childrenFiles = true;

/**
 * root and every live descendant. Uses /proc/PID/task/TID/children (cheap: a handful of reads
 * per sample); where the kernel lacks it, walks ppid links over all of /proc.
 */
export function processTree(root: number): number[] {
  if (!procAvailable) return [root];
  if (!childrenFiles) return processTreeByScan(root);
  const tree: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    const kids = childrenOf(pid);
    if (kids === null) {
      childrenFiles = false;
      return processTreeByScan(root);
    }
    tree.push(pid);
    queue.push(...kids);
  }
  return tree;
}

/** null when the kernel has no children files; [] when the process is gone. */
function childrenOf(pid: number): number[] | null {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const kids: number[] = [];
  for (const tid of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && tid === String(pid)) return null;
      continue;
    }
    for (const word of text.split(' ')) if (word.trim()) kids.push(Number(word));
  }
  return kids;
}

function processTreeByScan(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(stat.pid); else children.set(stat.ppid, [stat.pid]);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export interface TreeUsage {
  readonly pids: readonly number[];
  readonly cpuSec: number;
  readonly rssBytes: number;
}

export function treeUsage(root: number): TreeUsage {
  if (!procAvailable) return { pids: [root], cpuSec: Number.NaN, rssBytes: Number.NaN };
  const pids = processTree(root);
  let cpuSec = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    cpuSec += readStat(pid)?.cpuSec ?? 0;
    rssBytes += readRssBytes(pid);
  }
  return { pids, cpuSec, rssBytes };
}

/**
 * Samples a tree every `intervalMs` while a measurement runs and keeps the peak RSS. The tree is
 * re-listed each time so workers that start (or restart) mid-run are counted.
 */
export class TreeSampler {
  #timer: NodeJS.Timeout | null = null;
  #peakRss = 0;
  #last: TreeUsage | null = null;

  constructor(private readonly root: number, private readonly intervalMs = 100) {}

  start(): this {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.intervalMs);
    this.#timer.unref();
    return this;
  }

  /** Stops sampling; returns the peak tree RSS seen and the tree's CPU seconds at this moment. */
  stop(): { peakRssBytes: number; cpuSec: number } {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#sample();
    return { peakRssBytes: this.#peakRss, cpuSec: this.#last?.cpuSec ?? Number.NaN };
  }

  #sample(): void {
    const usage = treeUsage(this.root);
    this.#last = usage;
    if (usage.rssBytes > this.#peakRss) this.#peakRss = usage.rssBytes;
  }
}
