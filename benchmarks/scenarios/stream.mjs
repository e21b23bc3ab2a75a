// Scenario "stream": GET / -> a 1 MiB body of unknown length, so it goes out chunked.
import { STREAM_CHUNK, STREAM_CHUNKS } from './work.mjs';

async function* chunks() {
  for (let i = 0; i < STREAM_CHUNKS; i++) yield STREAM_CHUNK;
}

export default function stream() {
  return { status: 200, headers: [['content-type', 'application/octet-stream']], body: chunks() };
}
