// TLS over TCP and a Unix socket under the `threaded` engine, through its own socket handoff (core's listener suite).
import { runListenerSuite } from '@gatehouse/core/testkit';
import { ThreadedEngine } from '../src/index.js';

runListenerSuite('threaded', ThreadedEngine, { threads: 2 });
