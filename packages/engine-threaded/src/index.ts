/*
 * @gatehouse/engine-threaded public surface: the `threaded` engine class (default export),
 * which `--engine threaded` resolves to and the container constructs. The pieces below the engine are exported for the hybrid engine,
 * whose worker processes run a ThreadedServer on listeners they were handed.
 */
import { ThreadedEngine } from './engine.js';

export { ThreadedEngine };
export default ThreadedEngine;
export { ThreadedServer, type ThreadedServerOptions } from './server.js';
export { ThreadPool, type ThreadPoolOptions } from './pool.js';
export { ThreadPoolDispatcher, type ThreadPoolDispatcherOptions } from './dispatcher.js';
