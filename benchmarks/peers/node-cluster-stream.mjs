// Peer: node:cluster (WORKERS processes) serving the "stream" scenario (see serve.mjs).
import { serveCluster } from './serve.mjs';

serveCluster('stream');
