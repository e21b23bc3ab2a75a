/*
 * @gatehouse/engine-threaded public surface. Importing it registers the `threaded` engine
 * with core's container. The pieces below the engine are exported for the hybrid engine,
 * whose worker processes run a ThreadedServer on listeners they were handed.
 */
import { registerEngine } from '@gatehouse/core';
import { ThreadedEngine } from './engine.js';

registerEngine('threaded', ThreadedEngine);

export { ThreadedEngine };
export default ThreadedEngine;
export { ThreadedServer, type ThreadedServerOptions } from './server.js';
export { ThreadPool, type ThreadPoolOptions } from './pool.js';
export { ThreadPoolDispatcher, type ThreadPoolDispatcherOptions } from './dispatcher.js';
