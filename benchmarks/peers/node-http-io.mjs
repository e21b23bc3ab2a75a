// Peer: node:http serving the "io" scenario (see serve.mjs for the PORT/HOST convention).
import { serveHttp } from './serve.mjs';

serveHttp('io');
