/*
 * The report: what report.json holds, and what the Markdown, terminal and SVG renderers read.
 * `schema` is bumped on any incompatible change so tools reading old reports can tell.
 */
import type { LatencyMs, LoadResult } from '../loadgen/types.js';
import type { Spread } from '../stats.js';
import type { Comparison } from './verdict.js';

export const REPORT_SCHEMA = 'gatehouse-bench/1';

/** One measured round: what the load generator saw, plus the target's own cost. */
export interface RoundResult extends LoadResult {
  readonly round: number;
  /** CPU seconds the target's whole process tree used during the round. */
  readonly cpuSec: number;
  readonly peakRssBytes: number;
}

export interface TargetSummary {
  readonly rps: Spread;
  /** Median over rounds of each round's percentile; max is the largest of any round. */
  readonly latencyMs: LatencyMs;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  /** Server CPU per round (median), and per request. */
  readonly cpuSecPerRound: number;
  readonly cpuUsPerRequest: number;
  readonly loadgenCpuSecPerRound: number;
  /** Peak RSS of the whole process tree over warmup and rounds. */
  readonly peakRssBytes: number;
  /** Median requests/s divided by the baseline's. */
  readonly ratio: number;
}

export interface TargetReport {
  readonly name: string;
  readonly kind: 'engine' | 'peer';
  readonly workers: number;
  readonly threads: number;
  /**
   * A command that starts it again, pasteable where the bench ran: `npx gatehouse APP --engine
   * ... --bind 127.0.0.1:PORT`, or `PORT=... node /abs/peer.mjs`.
   */
  readonly command: string;
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly error?: string;
  readonly rounds: readonly RoundResult[];
  readonly summary: TargetSummary | null;
}

export interface BenchReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly date: string;
  readonly command: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryBytes: number;
    readonly node: string;
    readonly platform: string;
    readonly arch: string;
  };
  readonly app: string;
  readonly scenario: {
    readonly name: string;
    readonly describe: string;
    readonly requests: readonly { readonly method: string; readonly path: string; readonly bodyBytes: number }[];
  };
  readonly load: {
    readonly generator: 'wrk' | 'autocannon' | 'h2load' | 'node-h2';
    readonly version: string;
    /** Absent in reports written before HTTP/2 load existed: http1. */
    readonly protocol?: 'http1' | 'h2c';
    /** Concurrent streams per connection (1 on HTTP/1.1). */
    readonly streams?: number;
    readonly connections: number;
    readonly durationSec: number;
    readonly rounds: number;
    readonly warmupSec: number;
    readonly threads: number;
  };
  readonly parallelism: number;
  readonly baseline: string;
  readonly targets: readonly TargetReport[];
  /** Every measured target against the baseline (report/verdict.ts has the rule). */
  readonly verdicts?: readonly Comparison[];
  /** What the figures mean for the choice of engine, one sentence each (notes.ts). */
  readonly notes?: readonly string[];
  /** Where the files were written (absent when nothing was written). */
  readonly files?: { readonly json: string; readonly markdown: string; readonly svg: string };
}
