// Peer: node:cluster (WORKERS processes) serving the "io" scenario (see serve.mjs).
import { serveCluster } from './serve.mjs';

serveCluster('io');
