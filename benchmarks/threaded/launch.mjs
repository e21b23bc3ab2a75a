// Starts one Gatehouse engine for a load run: node launch.mjs ENGINE APP PORT [UNITS] [THREAD_CONCURRENCY]
// ENGINE is threaded (UNITS app threads), prefork (UNITS worker processes), hybrid (UNITS
// worker processes of THREADS app threads each, THREADS from the environment, default 2) or single. No logger is
// subscribed, so every engine is measured doing the same work. Exits on SIGTERM/SIGINT.
import { defaultSettings, SingleEngine } from '@gatehouse/core';

const [engineName, app, port, units = '2', threadConcurrency] = process.argv.slice(2);
const packages = {
  threaded: '../../packages/engine-threaded/dist/src/index.js',
  prefork: '../../packages/engine-prefork/dist/src/index.js',
  'threaded-base': '../../packages/engine-threaded/.ab-base/dist/src/index.js',
  hybrid: '../../packages/engine-hybrid/dist/src/index.js',
};
const Engine = engineName === 'single' ? SingleEngine : (await import(new URL(packages[engineName], import.meta.url).href)).default;
const settings = { ...defaultSettings(), bind: [`127.0.0.1:${port}`], threads: Number(units), workers: Number(units), engine: engineName.replace(/-base$/, '') };
if (engineName === 'hybrid') settings.threads = Number(process.env.THREADS ?? 2);
if (threadConcurrency) settings.threadConcurrency = Number(threadConcurrency);
const engine = new Engine({ settings, app: { kind: 'module', spec: app } });
await engine.start();
const stop = () => engine.stop({ graceful: false }).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
