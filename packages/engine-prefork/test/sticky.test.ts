// The sticky suite under the `prefork` engine: the master picks the worker process by client address.
import type { EngineStats } from '@gatehouse/core';
import { runStickySuite } from '@gatehouse/core/testkit';
import { PreforkEngine } from '../src/index.js';

const readyUnits = (engine: { stats(): EngineStats }): string[] => engine.stats().units.filter((u) => u.state === 'ready').map((u) => `${u.pid}:0`);

runStickySuite('prefork', PreforkEngine, { workers: 2 }, { units: 2, readyUnits });
