// Peer: node:http serving the "hello" scenario (see serve.mjs for the PORT/HOST convention).
import { serveHttp } from './serve.mjs';

serveHttp('hello');
