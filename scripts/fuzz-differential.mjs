#!/usr/bin/env node
// Long run of the differential fuzzer: our request parser against llhttp (node:http's parser),
// on inputs from packages/core/test/kit/differential.ts (fast-check generated requests with
// smugglers' variations, and mutations of the valid fixtures). The test suite runs a bounded
// version (differential.test.ts); this runs for minutes and prints every finding, grouped by
// class, each with the shortest input that shows it (greedily reduced) and how to replay it.
//
// Usage (after `npx --yes pnpm@10.34.8 build`):
//   node scripts/fuzz-differential.mjs [--seconds 120] [--seed N] [--batch 2000] [--json]
// Exit status: 0 when nothing unexplained turned up, 1 when there are findings.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const root = new URL('..', import.meta.url);
const harness = await import(new URL('packages/core/dist/test/kit/differential.js', root).href).catch((error) => {
  console.error(`fuzz-differential: cannot load the compiled harness (${error.message}). Build first: npx --yes pnpm@10.34.8 build`);
  process.exit(2);
});
// fast-check is a devDependency of @gatehouse/core: resolve it from there.
const fc = (await import(createRequire(new URL('packages/core/package.json', root)).resolve('fast-check'))).default;

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const seconds = option('seconds', 60);
const seed = option('seed', (Date.now() ^ (process.pid << 16)) >>> 0);
const batch = option('batch', 2000);
const json = args.includes('--json');

const { judge, isFinding, differentialInput, corpus, show } = harness;
const arbitrary = differentialInput(corpus());

/** Greedy reduction: drop slices (halving sizes) while the verdict keeps its kind and class. */
function reduce(input, verdict) {
  const same = (candidate) => {
    const v = judge(candidate);
    return v.kind === verdict.kind && v.class === verdict.class && isFinding(v);
  };
  let best = input;
  for (let size = Math.max(1, best.length >> 1); size >= 1; size >>= 1) {
    for (let at = 0; at + size <= best.length;) {
      const candidate = Buffer.concat([best.subarray(0, at), best.subarray(at + size)]);
      if (candidate.length > 0 && same(candidate)) best = candidate;
      else at += size;
    }
  }
  return best;
}

const deadline = performance.now() + seconds * 1000;
const counts = new Map();
const findings = new Map(); // key -> { verdict, input, count, batchSeed, index }
let inputs = 0;
let batches = 0;
while (performance.now() < deadline) {
  const batchSeed = (seed + batches) >>> 0;
  const samples = fc.sample(arbitrary, { numRuns: batch, seed: batchSeed });
  for (let index = 0; index < samples.length; index++) {
    const input = samples[index];
    const verdict = judge(input);
    inputs++;
    const key = `${verdict.kind}:${verdict.allowedBy ?? verdict.class}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (!isFinding(verdict)) continue;
    const known = findings.get(key);
    if (known === undefined) findings.set(key, { verdict, input, count: 1, batchSeed, index });
    else {
      known.count++;
      if (input.length < known.input.length) Object.assign(known, { verdict, input, batchSeed, index });
    }
    if (performance.now() >= deadline) break;
  }
  batches++;
}

const reported = [...findings].map(([key, f]) => {
  const reduced = reduce(f.input, f.verdict);
  return { class: key, count: f.count, input: show(reduced), original: show(f.input), detail: judge(reduced).detail,
    replay: `fc.sample(differentialInput(corpus()), { numRuns: ${f.index + 1}, seed: ${f.batchSeed} })[${f.index}]` };
});

if (json) {
  console.log(JSON.stringify({ seed, seconds, inputs, counts: Object.fromEntries([...counts].sort()), findings: reported }));
} else {
  console.log(`differential fuzzing, ours vs llhttp ${process.versions.llhttp} (node ${process.version}): ${inputs} inputs in ${seconds} s, seed ${seed} (--seed ${seed} replays it)`);
  for (const [key, n] of [...counts].sort()) console.log(`  ${String(n).padStart(8)}  ${key}`);
  if (reported.length === 0) console.log('no findings: every difference is a listed strictness or a listed non-framing laxity');
  for (const f of reported) {
    console.log(`\nFINDING ${f.class} (${f.count} inputs)\n  input:  ${f.input}\n  detail: ${f.detail}\n  replay: ${f.replay}`);
  }
}
process.exit(reported.length === 0 ? 0 : 1);
