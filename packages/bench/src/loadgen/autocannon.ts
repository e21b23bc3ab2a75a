/*
 * autocannon, the embedded load generator (used when wrk is not on PATH, and by the tests).
 * Each run is a child process running autocannon-child.js; see there for why.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collect } from './wrk.js';
import type { LoadGenerator, LoadResult, LoadSpec } from './types.js';

const childPath = fileURLToPath(new URL('./autocannon-child.js', import.meta.url));

export function autocannonVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('autocannon/package.json') as { version: string }).version;
}

export function createAutocannon(): LoadGenerator {
  return {
    name: 'autocannon',
    version: autocannonVersion(),
    async run(spec: LoadSpec): Promise<LoadResult> {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-autocannon-'));
      try {
        const specFile = join(dir, 'spec.json');
        writeFileSync(specFile, JSON.stringify({
          origin: spec.origin,
          connections: spec.connections,
          durationSec: spec.durationSec,
          timeoutSec: spec.timeoutSec,
          requests: spec.requests.map((r) => ({
            method: r.method,
            path: r.path,
            headers: r.headers,
            body: r.body ? Buffer.from(r.body).toString('base64') : undefined,
          })),
        }));
        const { code, stdout, stderr } = await collect(spawn(process.execPath, [childPath, specFile], { stdio: ['ignore', 'pipe', 'pipe'] }));
        const line = stdout.trim().split('\n').pop() ?? '';
        if (code !== 0 || !line.startsWith('{')) throw new Error(`autocannon exited with ${code}: ${(stderr || stdout).trim().split('\n').slice(-3).join(' ')}`);
        const data = JSON.parse(line) as Omit<LoadResult, 'rps'> & { timeouts: number };
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
    },
  };
}
