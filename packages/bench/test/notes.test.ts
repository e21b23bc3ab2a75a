// The notes under the table: when hybrid serves fewer requests/s than prefork in the same run,
// the report says so with the run's own figures and says when hybrid is still the pick; when
// hybrid wins, or either did not run, it says nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineNotes } from '../src/notes.js';
import { terminalTable } from '../src/report/table.js';
import { renderMarkdown } from '../src/report/markdown.js';
import type { TargetReport } from '../src/report/types.js';
import { sampleReport } from './kit/report.js';

const MiB = 1024 * 1024;

function engine(name: string, workers: number, threads: number, rps: number, cpuUsPerRequest: number, rssMiB: number): TargetReport {
  const prefork = sampleReport().targets[0]!;
  return {
    ...prefork, name, workers, threads,
    summary: { ...prefork.summary!, rps: { median: rps, min: rps, max: rps, spreadPct: 0 }, cpuUsPerRequest, peakRssBytes: rssMiB * MiB },
  };
}

test('hybrid slower than prefork: one note with its share of prefork\'s req/s, CPU per request, RSS, and when to pick it', () => {
  const notes = engineNotes([engine('prefork', 2, 1, 60_000, 20, 203), engine('hybrid', 2, 2, 45_000, 24, 358)]);
  assert.equal(notes.length, 1);
  const [note] = notes;
  assert.match(note!, /hybrid \(2 x 2\) served 0\.75x prefork's requests\/s/);
  assert.match(note!, /24 µs of CPU per request against 20/);
  assert.match(note!, /358 MiB against 203/);
  assert.match(note!, /Pick hybrid when requests block/);
});

test('no note when hybrid serves at least as much as prefork, or when one of them did not run', () => {
  assert.deepEqual(engineNotes([engine('prefork', 2, 1, 40_000, 20, 203), engine('hybrid', 2, 2, 41_000, 24, 358)]), []);
  assert.deepEqual(engineNotes([engine('hybrid', 2, 2, 41_000, 24, 358)]), []);
  const failed = { ...engine('hybrid', 2, 2, 0, 0, 0), status: 'failed' as const, summary: null };
  assert.deepEqual(engineNotes([engine('prefork', 2, 1, 40_000, 20, 203), failed]), []);
});

test('the terminal table and report.md show the notes', () => {
  const report = { ...sampleReport(), notes: ['hybrid (2 x 2) served 0.75x prefork\'s requests/s here'] };
  assert.match(terminalTable(report), /\n\* hybrid \(2 x 2\) served 0\.75x/);
  assert.match(renderMarkdown(report), /\*\*Note:\*\* hybrid \(2 x 2\) served 0\.75x/);
});
