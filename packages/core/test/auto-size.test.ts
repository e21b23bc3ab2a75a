/*
 * `auto` unit counts in isolation: the usable-CPU count read from fake cgroup trees (v2 and v1,
 * limits on the process's cgroup or an ancestor, no limit, malformed files) and a given
 * affinity, the per-engine sizing rule, and the settings table accepting `auto`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyAutoSize, resolveSettings, usableCpus, type UsableCpus } from '../src/internal.js';
import { coerceSetting } from '../src/settings/parse.js';

/** A fake cgroup mount: { 'relative/file': 'content' }. */
function fakeCgroup(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-cgroup-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

const V2_MEMBER = '0::/kubepods.slice/pod1/app\n';

describe('usableCpus', () => {
  it('cgroup v2: the quota on an ancestor applies, rounded up, and the tightest level wins', () => {
    const root = fakeCgroup({ 'kubepods.slice/pod1/cpu.max': '250000 100000\n', 'kubepods.slice/cpu.max': 'max 100000\n', 'kubepods.slice/pod1/app/cpu.max': 'max 100000\n' });
    const cpus = usableCpus({ cgroupRoot: root, procSelfCgroup: V2_MEMBER, affinity: 8 });
    assert.equal(cpus.count, 3);
    assert.equal(cpus.quota?.file, path.join(root, 'kubepods.slice/pod1/cpu.max'));
    assert.match(cpus.why, /^3 usable CPUs: cgroup quota 250000\/100000 in .*pod1\/cpu\.max; affinity mask 8 CPUs$/);

    const tighter = fakeCgroup({ 'kubepods.slice/pod1/cpu.max': '250000 100000\n', 'kubepods.slice/pod1/app/cpu.max': '100000 50000\n' });
    assert.equal(usableCpus({ cgroupRoot: tighter, procSelfCgroup: V2_MEMBER, affinity: 8 }).count, 2);
  });

  it('the affinity mask caps a larger quota; a quota under one CPU is still one', () => {
    const root = fakeCgroup({ 'cpu.max': '400000 100000' });
    assert.equal(usableCpus({ cgroupRoot: root, procSelfCgroup: '0::/\n', affinity: 2 }).count, 2);
    const small = fakeCgroup({ 'cpu.max': '20000 100000' });
    const cpus = usableCpus({ cgroupRoot: small, procSelfCgroup: '0::/\n', affinity: 4 });
    assert.equal(cpus.count, 1);
    assert.match(cpus.why, /^1 usable CPU: /);
  });

  it('a process cgroup path not under the mount (no cgroup namespace) still reads the mount itself', () => {
    const root = fakeCgroup({ 'cpu.max': '200000 100000' });
    assert.equal(usableCpus({ cgroupRoot: root, procSelfCgroup: '0::/docker/0123abcd\n', affinity: 16 }).count, 2);
  });

  it('cgroup v1: cpu.cfs_quota_us / cpu.cfs_period_us under the cpu hierarchy; -1 is no limit', () => {
    const member = '4:memory:/x\n3:cpu,cpuacct:/docker/abc\n0::/\n';
    const root = fakeCgroup({ 'cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '300000\n', 'cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n' });
    const cpus = usableCpus({ cgroupRoot: root, procSelfCgroup: member, affinity: 8 });
    assert.equal(cpus.count, 3);
    assert.equal(cpus.quota?.file, path.join(root, 'cpu,cpuacct/docker/abc/cpu.cfs_quota_us'));
    const none = fakeCgroup({ 'cpu/cpu.cfs_quota_us': '-1\n', 'cpu/cpu.cfs_period_us': '100000\n' });
    assert.equal(usableCpus({ cgroupRoot: none, procSelfCgroup: '1:cpu:/\n', affinity: 8 }).count, 8);
  });

  it('no quota, unreadable or malformed files: the affinity mask alone', () => {
    const cases: Array<Record<string, string>> = [{}, { 'cpu.max': 'max 100000' }, { 'cpu.max': 'lots' }, { 'cpu.max': '0 100000' }, { 'cpu.max': '100000 0' }];
    for (const files of cases) {
      const cpus = usableCpus({ cgroupRoot: fakeCgroup(files), procSelfCgroup: '0::/\n', affinity: 6 });
      assert.equal(cpus.count, 6, JSON.stringify(files));
      assert.equal(cpus.quota, undefined);
      assert.match(cpus.why, /no cgroup CPU quota; affinity mask 6 CPUs/);
    }
    assert.equal(usableCpus({ cgroupRoot: '/nonexistent', procSelfCgroup: '', affinity: 3 }).count, 3);
  });

  it('by default the affinity mask is os.availableParallelism()', () => {
    assert.equal(usableCpus({ cgroupRoot: '/nonexistent', procSelfCgroup: '' }).affinity, os.availableParallelism());
  });
});

describe('applyAutoSize: app event loops = usable CPUs', () => {
  const cpus = (count: number): UsableCpus => ({ count, affinity: count, why: `${count} usable CPUs: test` });
  const size = (engine: string, workers: number | 'auto', threads: number | 'auto', count: number) => {
    const settings: Record<string, unknown> = { engine, workers, threads };
    const sized = applyAutoSize(settings, cpus(count));
    return { workers: settings.workers, threads: settings.threads, sized };
  };

  it('prefork: one process per CPU; threaded: one app thread per CPU', () => {
    assert.deepEqual(size('prefork', 'auto', 4, 6), { workers: 6, threads: 4, sized: { workers: { value: 6, why: 'auto (one process per CPU; 6 usable CPUs: test)' } } });
    const threaded = size('threaded', 1, 'auto', 3);
    assert.equal(threaded.threads, 3);
    assert.equal(threaded.workers, 1);
    assert.equal(threaded.sized.workers, undefined);
  });

  it('hybrid: the auto count fills the CPUs given the other; both auto split 1 x N below 4, else N/2 x 2', () => {
    assert.deepEqual([size('hybrid', 'auto', 4, 8).workers, size('hybrid', 'auto', 4, 8).threads], [2, 4]);
    assert.deepEqual([size('hybrid', 'auto', 4, 2).workers, size('hybrid', 'auto', 4, 2).threads], [1, 4]);
    assert.deepEqual([size('hybrid', 3, 'auto', 8).workers, size('hybrid', 3, 'auto', 8).threads], [3, 2]);
    assert.deepEqual([size('hybrid', 'auto', 'auto', 2).workers, size('hybrid', 'auto', 'auto', 2).threads], [1, 2]);
    assert.deepEqual([size('hybrid', 'auto', 'auto', 1).workers, size('hybrid', 'auto', 'auto', 1).threads], [1, 1]);
    const eight = size('hybrid', 'auto', 'auto', 8);
    assert.deepEqual([eight.workers, eight.threads], [4, 2]);
    assert.match(eight.sized.threads!.why, /^auto \(hybrid: 4 processes x 2 threads for 8 CPUs; 8 usable CPUs: test\)$/);
  });
});

describe('the settings table and auto', () => {
  const cli = { kind: 'cli', flag: '--workers' } as const;
  it('workers and threads take auto, and max (PM2\'s word) as the same; other integers do not', () => {
    for (const raw of ['auto', 'AUTO', ' max ']) assert.equal(coerceSetting('workers', raw, cli), 'auto');
    assert.equal(coerceSetting('threads', 'auto', cli), 'auto');
    assert.throws(() => coerceSetting('backlog', 'auto', cli), /expected a whole number >= 1$/);
    assert.throws(() => coerceSetting('workers', 'many', cli), /workers = "many" from flag --workers: expected a whole number >= 1, or auto \(one per usable CPU\)$/);
  });

  it('resolveSettings sizes a count left at auto by the winning layer, and only that one', () => {
    const { settings, autoSized } = resolveSettings([{ name: 'workers', raw: 'auto', source: cli }, { name: 'threads', raw: 'auto', source: cli }], [{ name: 'threads', raw: '3', source: cli }]);
    assert.equal(settings.workers, autoSized.workers!.value);
    assert.ok(Number.isSafeInteger(settings.workers) && settings.workers >= 1 && settings.workers <= os.availableParallelism());
    assert.equal(settings.threads, 3);
    assert.equal(autoSized.threads, undefined);
    assert.deepEqual(resolveSettings([]).autoSized, {});
  });
});
