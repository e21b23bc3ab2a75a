// Peer: node:http serving the "upload" scenario (see serve.mjs for the PORT/HOST convention).
import { serveHttp } from './serve.mjs';

serveHttp('upload');
