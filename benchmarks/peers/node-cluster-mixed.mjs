// Peer: node:cluster (WORKERS processes) serving the "mixed" scenario (see serve.mjs).
import { serveCluster } from './serve.mjs';

serveCluster('mixed');
