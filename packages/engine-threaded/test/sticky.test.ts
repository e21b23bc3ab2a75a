// The sticky suite under the `threaded` engine: the main thread picks the app thread by client address.
import type { EngineStats } from '@gatehouse/core';
import { runStickySuite } from '@gatehouse/core/testkit';
import { ThreadedEngine } from '../src/index.js';

const readyUnits = (engine: { stats(): EngineStats }): string[] => engine.stats().units.filter((u) => u.state === 'ready').map((u) => `${u.pid}:${u.threadId}`);

runStickySuite('threaded', ThreadedEngine, { threads: 2 }, { units: 2, readyUnits });
