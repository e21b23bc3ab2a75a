/*
 * The few statistics a benchmark report needs. Rounds are few (3-10), so everything is exact
 * over the sorted sample; no histograms. Percentiles use linear interpolation between closest
 * ranks (the "R-7" definition spreadsheets and numpy default to), so p50 of an even-sized sample
 * is the mean of the two middle values, like the median.
 */

function sortedCopy(values: readonly number[]): number[] {
  return [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
}

/** p in [0, 100]. NaN for an empty sample. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = sortedCopy(values);
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[sorted.length - 1]!;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max - min) / median, in percent: how far apart the rounds were. 0 for one round. */
  readonly spreadPct: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = sortedCopy(values);
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, spreadPct: Number.NaN };
  const mid = median(sorted);
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  return { median: mid, min, max, spreadPct: mid > 0 ? ((max - min) / mid) * 100 : 0 };
}

/** value / baseline, or NaN when either is missing or the baseline is zero. */
export function ratio(value: number, baseline: number): number {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return Number.NaN;
  return value / baseline;
}
