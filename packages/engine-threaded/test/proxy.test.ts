// The proxy suite (X-Forwarded-* trust, the PROXY protocol and its allow list) under the `threaded` engine, through its own socket handoff (the main thread, 2 app threads).
import { runProxySuite } from '@gatehouse/core/testkit';
import { ThreadedEngine } from '../src/index.js';

runProxySuite('threaded', ThreadedEngine, { threads: 2 });
