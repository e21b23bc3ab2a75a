// Peer: node:cluster (WORKERS processes) serving the "cpu" scenario (see serve.mjs).
import { serveCluster } from './serve.mjs';

serveCluster('cpu');
