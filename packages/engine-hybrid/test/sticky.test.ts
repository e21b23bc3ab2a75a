// The sticky suite under the `hybrid` engine, 2 processes x 2 threads: the master picks the
// process, then that process picks the app thread, both by client address.
import type { EngineStats } from '@gatehouse/core';
import { runStickySuite } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

const readyUnits = (engine: { stats(): EngineStats }): string[] => engine.stats().units.filter((u) => u.state === 'ready')
  .flatMap((u) => (u.children ?? []).filter((c) => c.state === 'ready').map((c) => `${u.pid}:${c.threadId}`));

runStickySuite('hybrid', HybridEngine, { workers: 2, threads: 2 }, { units: 4, readyUnits });
