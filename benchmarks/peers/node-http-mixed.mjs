// Peer: node:http serving the "mixed" scenario (see serve.mjs for the PORT/HOST convention).
import { serveHttp } from './serve.mjs';

serveHttp('mixed');
