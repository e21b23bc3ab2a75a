// TLS over TCP and a Unix socket under the `hybrid` engine, through its own socket handoff (core's listener suite).
import { runListenerSuite } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

runListenerSuite('hybrid', HybridEngine, { workers: 2, threads: 1 });
