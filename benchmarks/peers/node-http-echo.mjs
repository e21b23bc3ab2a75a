// Peer: node:http serving the echo of benchmarks/scenarios/echo.mjs (see serve.mjs for the PORT/HOST convention).
import { serveHttp } from './serve.mjs';

serveHttp('echo');
