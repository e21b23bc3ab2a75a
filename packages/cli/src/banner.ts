/*
 * The start-up banner `serve` prints on a terminal, in the manner of Gunicorn's "Starting
 * gunicorn / Using worker" lines: what runs (version, engine and how many units), which app,
 * and where its settings came from. It is written before the engine starts, as info lines;
 * the ready record that follows names the addresses. JSON logs never carry it: every fact
 * in it is already a field of the ready record or shown by --print-config.
 */
import path from 'node:path';
import type { Settings } from '@gatehouse/core';
import type { ResolvedSettings } from '@gatehouse/core/internal';

export interface BannerInput {
  readonly version: string;
  readonly settings: Readonly<Settings>;
  readonly sources: ResolvedSettings['sources'];
  /** The config file read, if any (even one that sets nothing is a source the operator should see). */
  readonly configFile?: string;
  readonly cwd: string;
}

export function bannerLines({ version, settings, sources, configFile, cwd }: BannerInput): string[] {
  return [
    `Starting ${version}`,
    `Engine: ${engineUnits(settings)}`,
    `App: ${path.resolve(cwd, settings.app)} (interface ${settings.interface === 'auto' ? 'auto: detected as each unit loads it' : settings.interface})`,
    `Config: ${configSources(sources, configFile)}`,
  ];
}

/** The engine and its units, e.g. "prefork, 4 workers" or "hybrid, 2 workers x 4 threads". */
function engineUnits(settings: Readonly<Settings>): string {
  const n = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'}`;
  const perThread = `${n(settings.threadConcurrency, 'request')} in flight per thread`;
  switch (settings.engine) {
    case 'single': return 'single, 1 process';
    case 'prefork': return `prefork, ${n(settings.workers, 'worker')}`;
    case 'threaded': return `threaded, ${n(settings.threads, 'thread')} (${perThread})`;
    case 'hybrid': return `hybrid, ${n(settings.workers, 'worker')} x ${n(settings.threads, 'thread')} (${perThread})`;
    default: return settings.engine;
  }
}

/** Which layers set something: "file F; env VAR, VAR; cli --flag", or "defaults only". */
function configSources(sources: ResolvedSettings['sources'], configFile: string | undefined): string {
  const env = new Set<string>();
  const cli = new Set<string>();
  for (const source of Object.values(sources)) {
    if (source.kind === 'env') env.add(source.variable);
    else if (source.kind === 'cli') (source.via ? env : cli).add(source.via ?? source.flag);
    else if (source.kind === 'option') cli.add(source.key);
  }
  const parts = [
    configFile ? `file ${configFile}` : '',
    env.size ? `env ${[...env].join(', ')}` : '',
    cli.size ? `cli ${[...cli].join(' ')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'defaults only';
}
