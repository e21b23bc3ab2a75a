// Peer: node:http serving the "stream" scenario (see serve.mjs for the PORT/HOST convention).
import { serveHttp } from './serve.mjs';

serveHttp('stream');
