/*
 * The embedded load generators (autocannon, node-h2) each run as a child process: one run,
 * then one JSON line on stdout with the figures and the child's own CPU time. A separate
 * process keeps the generator's event loop apart from the tool's sampler and makes its CPU
 * cost measurable. This is the parent's side: the spec goes in a JSON file, the line comes back.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect } from './wrk.js';
import type { LoadResult, LoadSpec } from './types.js';

/** The spec as a child reads it (bodies base64). */
export interface ChildSpec {
  origin: string;
  connections: number;
  streams: number;
  durationSec: number;
  timeoutSec: number;
  requests: { method: string; path: string; headers: [string, string][]; body?: string }[];
}

/** The line a child prints. */
export type ChildResult = Omit<LoadResult, 'rps'> & { timeouts: number };

export async function runChild(childPath: string, name: string, spec: LoadSpec): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-${name}-`));
  try {
    const specFile = join(dir, 'spec.json');
    const childSpec: ChildSpec = {
      origin: spec.origin,
      connections: spec.connections,
      streams: spec.streams,
      durationSec: spec.durationSec,
      timeoutSec: spec.timeoutSec,
      requests: spec.requests.map((r) => ({
        method: r.method,
        path: r.path,
        headers: r.headers.map(([n, v]) => [n, v] as [string, string]),
        body: r.body ? Buffer.from(r.body).toString('base64') : undefined,
      })),
    };
    writeFileSync(specFile, JSON.stringify(childSpec));
    const { code, stdout, stderr } = await collect(spawn(process.execPath, [childPath, specFile], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const line = stdout.trim().split('\n').pop() ?? '';
    if (code !== 0 || !line.startsWith('{')) throw new Error(`${name} exited with ${code}: ${(stderr || stdout).trim().split('\n').slice(-3).join(' ')}`);
    const data = JSON.parse(line) as ChildResult;
    return {
      requests: data.requests,
      durationSec: data.durationSec,
      rps: data.durationSec > 0 ? data.requests / data.durationSec : 0,
      latencyMs: data.latencyMs,
      errors: data.errors,
      non2xx: data.non2xx,
      loadgenCpuSec: data.loadgenCpuSec,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
