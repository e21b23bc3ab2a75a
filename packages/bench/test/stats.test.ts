// The statistics behind every figure in a report: medians and spreads over rounds, percentiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, percentile, ratio, spread } from '../src/stats.js';

test('median of an odd sample is its middle value, whatever the order', () => {
  assert.equal(median([30, 10, 20]), 20);
  assert.equal(median([5]), 5);
});

test('median of an even sample is the mean of the two middle values', () => {
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('percentiles interpolate between closest ranks; 0 and 100 are min and max', () => {
  const values = [10, 20, 30, 40, 50];
  assert.equal(percentile(values, 0), 10);
  assert.equal(percentile(values, 100), 50);
  assert.equal(percentile(values, 50), 30);
  // rank 0.9 * 4 = 3.6 -> 40 + 0.6 * 10
  assert.equal(percentile(values, 90), 46);
  assert.equal(percentile(values, 25), 20);
});

test('an empty sample gives NaN rather than a made-up number; non-finite values are ignored', () => {
  assert.ok(Number.isNaN(median([])));
  assert.ok(Number.isNaN(spread([]).median));
  assert.equal(median([1, Number.NaN, 3]), 2);
});

test('spread reports median, min, max and the range as a percentage of the median', () => {
  assert.deepEqual(spread([90, 100, 110]), { median: 100, min: 90, max: 110, spreadPct: 20 });
  assert.deepEqual(spread([42]), { median: 42, min: 42, max: 42, spreadPct: 0 });
});

test('ratio divides by the baseline and refuses a zero or missing baseline', () => {
  assert.equal(ratio(150, 100), 1.5);
  assert.ok(Number.isNaN(ratio(150, 0)));
  assert.ok(Number.isNaN(ratio(150, Number.NaN)));
});
