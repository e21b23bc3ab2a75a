// Interim responses and trailers under the `threaded` engine.
import { runInterimSuite } from '@gatehouse/core/testkit';
import { ThreadedEngine } from '../src/index.js';

runInterimSuite('threaded', ThreadedEngine);
