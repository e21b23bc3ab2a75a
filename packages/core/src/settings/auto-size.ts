/*
 * What `auto` means for the unit counts, decided once the settings' layers are applied (it
 * depends on the engine, and under hybrid on the other count). The rule: as many app event
 * loops as usable CPUs. One Node event loop keeps many requests in flight and saturates one
 * CPU, so Gunicorn's 2n+1 for blocking sync workers does not apply, and more loops than CPUs
 * only add memory and context switches (PM2's `-i max` is one per CPU too).
 *
 *   prefork    workers = CPUs
 *   threaded   threads = CPUs
 *   hybrid     workers x threads = CPUs: the auto one is CPUs / the other (rounded down, at
 *              least 1); both auto: 1 x CPUs below 4 CPUs, else CPUs/2 processes x 2 threads
 *              (the split `serve bench` uses for equal parallelism)
 *
 * Any other engine gets CPUs for each auto count.
 */
import type { Settings } from './table.js';
import { AUTO } from './parse.js';
import type { UsableCpus } from '../usable-cpus.js';

export type AutoSizedSetting = 'workers' | 'threads';

/** For each count that was `auto`: its number, and the reason --print-config shows. */
export type AutoSized = Partial<Record<AutoSizedSetting, { readonly value: number; readonly why: string }>>;

/** Whether any count is still `auto` (so the CPUs need probing). */
export function needsAutoSize(settings: Readonly<Record<string, unknown>>): boolean {
  return settings.workers === AUTO || settings.threads === AUTO;
}

/** Sizes the `auto` counts of `settings` in place and says why. */
export function applyAutoSize(settings: Record<string, unknown>, cpus: UsableCpus): AutoSized {
  const workersAuto = settings.workers === AUTO;
  const threadsAuto = settings.threads === AUTO;
  const n = cpus.count;
  const out: AutoSized = {};
  const set = (name: AutoSizedSetting, value: number, rule: string) => {
    settings[name] = value;
    out[name] = { value, why: `auto (${rule}; ${cpus.why})` };
  };
  if ((settings as Partial<Settings>).engine === 'hybrid') {
    if (workersAuto && threadsAuto) {
      const threads = n < 4 ? n : 2;
      const workers = n < 4 ? 1 : Math.floor(n / 2);
      const rule = `hybrid: ${workers} process${workers === 1 ? '' : 'es'} x ${threads} thread${threads === 1 ? '' : 's'} for ${n} CPU${n === 1 ? '' : 's'}`;
      set('workers', workers, rule);
      set('threads', threads, rule);
    } else if (workersAuto) {
      const threads = settings.threads as number;
      set('workers', Math.max(1, Math.floor(n / threads)), `hybrid: ${n} CPUs / ${threads} threads per process`);
    } else if (threadsAuto) {
      const workers = settings.workers as number;
      set('threads', Math.max(1, Math.floor(n / workers)), `hybrid: ${n} CPUs / ${workers} processes`);
    }
    return out;
  }
  if (workersAuto) set('workers', n, 'one process per CPU');
  if (threadsAuto) set('threads', n, 'one app thread per CPU');
  return out;
}
