#!/usr/bin/env node
// Serves an app under the prefork engine, for benchmarks (no CLI, no logging):
//   node benchmarks/prefork/serve-prefork.mjs APP PORT [WORKERS=2]
// Sends {type:'ready', url} over IPC when serving; SIGTERM stops gracefully.
import { defaultSettings } from '@gatehouse/core';
import { PreforkEngine } from '../../packages/engine-prefork/dist/src/index.js';

const [app, port, workers = '2'] = process.argv.slice(2);
const settings = { ...defaultSettings(), bind: [`127.0.0.1:${port}`], workers: Number(workers) };
const engine = new PreforkEngine({ settings, app: { kind: 'module', spec: app } });
await engine.start();
process.send?.({ type: 'ready', url: engine.addresses[0].url });
process.on('SIGTERM', () => { void engine.stop({ graceful: true }).then(() => process.exit(0)); });
