// Peer: node:cluster (WORKERS processes) serving the "upload" scenario (see serve.mjs).
import { serveCluster } from './serve.mjs';

serveCluster('upload');
