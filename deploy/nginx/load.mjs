#!/usr/bin/env node
// A bounded load loop on loopback for rolling-restart.sh: C clients send GET requests over
// keep-alive connections to URL until the file STOP exists, MAX requests were sent, or
// MAX_SECONDS passed (whichever first). Prints one JSON line: sent, ok, failed, first errors.
// Usage: node load.mjs URL STOP_FILE [clients=4] [max=200000] [max_seconds=120]
import fs from 'node:fs';
import http from 'node:http';

const [url, stopFile, clients = '4', max = '200000', maxSeconds = '120'] = process.argv.slice(2);
if (!url || !stopFile) { console.error('usage: node load.mjs URL STOP_FILE [clients] [max] [max_seconds]'); process.exit(2); }
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(clients) });
const ends = Date.now() + Number(maxSeconds) * 1000;
let sent = 0, ok = 0, failed = 0;
const errors = [];

function once() {
  return new Promise((resolve) => {
    const request = http.get(url, { agent }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode === 200) ok++;
        else { failed++; if (errors.length < 10) errors.push(`status ${response.statusCode}`); }
        resolve();
      });
    });
    request.on('error', (error) => { failed++; if (errors.length < 10) errors.push(error.message); resolve(); });
    request.setTimeout(30_000, () => request.destroy(new Error('timed out')));
  });
}

async function client() {
  while (sent < Number(max) && Date.now() < ends && !fs.existsSync(stopFile)) {
    sent++;
    await once();
  }
}

await Promise.all(Array.from({ length: Number(clients) }, client));
agent.destroy();
console.log(JSON.stringify({ sent, ok, failed, errors }));
