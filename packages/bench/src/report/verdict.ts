/*
 * Verdicts: one sentence per comparison saying which target serves the app faster, by how much,
 * and whether the difference is beyond the run's noise.
 *
 * The noise rule (docs/benchmarks.md, "Verdicts"): a difference counts only when the two
 * targets' per-round req/s ranges do not overlap, i.e. the slower target's fastest round is
 * below the faster target's slowest round. Rounds are interleaved, so round i of both targets
 * ran side by side in time; non-overlapping ranges also put every round-by-round ratio on the
 * same side of 1.0. With no real difference, two sets of 3 rounds fall apart this way by chance
 * 1 time in 10 (2 of the 20 orderings of 6 values), with 5 rounds 1 time in 126. With fewer than
 * MIN_ROUNDS rounds there is no spread to judge by, and the verdict says so instead.
 */
import { fmtInt, fmtMiB, fmtRatio } from './format.js';
import type { BenchReport, TargetReport } from './types.js';

export const MIN_ROUNDS = 3;

export type Outcome = 'faster' | 'slower' | 'within-noise' | 'too-few-rounds';

export interface Comparison {
  readonly target: string;
  readonly baseline: string;
  /** Median req/s of target / median req/s of baseline. */
  readonly ratio: number;
  readonly outcome: Outcome;
  readonly line: string;
}

type Measured = TargetReport & { readonly summary: NonNullable<TargetReport['summary']> };

function measured(target: TargetReport | undefined): target is Measured {
  return target !== undefined && target.status === 'ok' && target.summary !== null && target.rounds.length > 0;
}

/** "prefork 2x1": the name and its processes x threads, as every verdict names a target. */
function shapeName(target: TargetReport): string {
  return `${target.name} ${target.workers}x${target.threads}`;
}

/** The rule above, on two targets' per-round req/s. */
export function outcomeOf(target: readonly number[], baseline: readonly number[]): Outcome {
  if (Math.min(target.length, baseline.length) < MIN_ROUNDS) return 'too-few-rounds';
  if (Math.min(...target) > Math.max(...baseline)) return 'faster';
  if (Math.max(...target) < Math.min(...baseline)) return 'slower';
  return 'within-noise';
}

const rpsOf = (target: Measured) => target.rounds.map((round) => round.rps);
const range = (values: readonly number[]) => `${fmtInt(Math.min(...values))}-${fmtInt(Math.max(...values))}`;

function reason(outcome: Outcome, target: Measured, baseline: Measured): string {
  const a = rpsOf(target);
  const b = rpsOf(baseline);
  switch (outcome) {
    case 'faster':
      return `faster beyond noise: its slowest round (${fmtInt(Math.min(...a))} req/s) beat the fastest of ${baseline.name} (${fmtInt(Math.max(...b))})`;
    case 'slower':
      return `slower beyond noise: its fastest round (${fmtInt(Math.max(...a))} req/s) was below the slowest of ${baseline.name} (${fmtInt(Math.min(...b))})`;
    case 'within-noise':
      return `within noise: the rounds overlap (${range(a)} vs ${range(b)} req/s)`;
    case 'too-few-rounds':
      return `noise not judged: ${Math.min(a.length, b.length)} round(s), ${MIN_ROUNDS} or more needed (--rounds)`;
  }
}

function cpuClause(target: Measured, baseline: Measured): string {
  const a = target.summary.cpuUsPerRequest;
  const b = baseline.summary.cpuUsPerRequest;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return '';
  return `; server CPU per request ${fmtInt(a)} vs ${fmtInt(b)} µs`;
}

export function compare(target: TargetReport, baseline: TargetReport): Comparison | null {
  if (!measured(target) || !measured(baseline)) return null;
  const ratio = target.summary.rps.median / baseline.summary.rps.median;
  const outcome = outcomeOf(rpsOf(target), rpsOf(baseline));
  const line = `${shapeName(target)} at ${fmtRatio(ratio)} ${shapeName(baseline)} ` +
    `(${fmtInt(target.summary.rps.median)} vs ${fmtInt(baseline.summary.rps.median)} req/s), ` +
    `${reason(outcome, target, baseline)}${cpuClause(target, baseline)}.`;
  return { target: target.name, baseline: baseline.name, ratio, outcome, line };
}

/** Every measured target against the report's baseline. */
export function comparisons(report: BenchReport): Comparison[] {
  const baseline = report.targets.find((t) => t.name === report.baseline);
  if (!baseline) return [];
  return report.targets
    .filter((t) => t.name !== report.baseline)
    .map((t) => compare(t, baseline))
    .filter((c): c is Comparison => c !== null);
}

/**
 * threaded and hybrid against prefork at the same processes x threads, in words a reader can act
 * on. These engines trade throughput for memory (threads share one heap per process), so the
 * sentence weighs the two measured figures, and stays silent when the units differ.
 */
export function tradeOffLines(report: BenchReport): string[] {
  const prefork = report.targets.find((t) => t.name === 'prefork');
  if (!measured(prefork)) return [];
  const units = (t: TargetReport) => t.workers * t.threads;
  const lines: string[] = [];
  for (const name of ['threaded', 'hybrid']) {
    const other = report.targets.find((t) => t.name === name);
    if (!measured(other) || units(other) !== units(prefork)) continue;
    const ratio = other.summary.rps.median / prefork.summary.rps.median;
    const outcome = outcomeOf(rpsOf(other), rpsOf(prefork));
    const rssOther = other.summary.peakRssBytes;
    const rssPrefork = prefork.summary.peakRssBytes;
    const memory = `${fmtMiB(rssOther)} vs ${fmtMiB(rssPrefork)} peak RSS`;
    const head = `${shapeName(other)} serves this app at ${fmtRatio(ratio)} ${shapeName(prefork)}`;
    if (outcome === 'slower') {
      lines.push(rssOther < rssPrefork
        ? `${head}: pick ${name} only when its smaller memory (${memory}) matters more than that throughput.`
        : `${head} and uses no less memory (${memory}): prefork is the better pick for this app.`);
    } else if (outcome === 'faster') {
      lines.push(`${head}, faster beyond noise, with ${memory}.`);
    } else if (outcome === 'within-noise') {
      lines.push(`${head}, within noise: pick by memory (${memory}) and by what each engine offers (docs/engines.md).`);
    }
  }
  return lines;
}
