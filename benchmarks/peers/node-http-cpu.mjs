// Peer: node:http serving the "cpu" scenario (see serve.mjs for the PORT/HOST convention).
import { serveHttp } from './serve.mjs';

serveHttp('cpu');
