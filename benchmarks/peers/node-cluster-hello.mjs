// Peer: node:cluster (WORKERS processes) serving the "hello" scenario (see serve.mjs).
import { serveCluster } from './serve.mjs';

serveCluster('hello');
