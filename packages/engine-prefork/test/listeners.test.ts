// TLS over TCP and a Unix socket under the `prefork` engine, through its own socket handoff (core's listener suite).
import { runListenerSuite } from '@gatehouse/core/testkit';
import { PreforkEngine } from '../src/index.js';

runListenerSuite('prefork', PreforkEngine, { workers: 2 });
