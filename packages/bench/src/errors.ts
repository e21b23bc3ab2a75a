/*
 * The bench tool's own error catalogue: usage problems that stop `serve bench` before it
 * measures anything. They never answer a request and never cross a thread, so they live here
 * rather than in core's catalogue; docs/errors.md documents them beside core's (its generator,
 * scripts/gen-errors-doc.mjs, reads both). A BenchError prints as a GatehouseError does:
 * `CODE: message: detail. hint`.
 */
import type { CatalogueEntry } from '@gatehouse/core';

export const BENCH_ERRORS = {
  ERR_BENCH_USAGE: { status: 500, message: 'Invalid bench option', hint: 'Run `serve bench --help` for the options.' },
  ERR_BENCH_SCENARIO_UNKNOWN: { status: 500, message: 'Unknown scenario', hint: 'Use one of: hello, close, cpu, io, upload, stream, mixed; or --path/--method/--body-file for your own request.' },
  ERR_BENCH_ENGINE_UNKNOWN: { status: 500, message: 'Unknown engine', hint: 'Use prefork, threaded, hybrid or single (comma-separated).' },
  ERR_BENCH_PEER_UNKNOWN: { status: 500, message: 'Unknown peer', hint: 'Use node-http or node-cluster (comma-separated).' },
  ERR_BENCH_PORT_IN_USE: { status: 500, message: 'Port is in use', hint: 'Stop the process that holds it, or leave out --port so free ports are picked.' },
  ERR_BENCH_WRK_MISSING: { status: 500, message: 'wrk is not on PATH', hint: 'Install wrk (apt-get install wrk, brew install wrk) or use --loadgen autocannon.' },
  ERR_BENCH_SERVE_MISSING: { status: 500, message: 'Cannot find the serve command to start the engines', hint: 'Install the CLI in the project (npm install @gatehouse/cli) and run `npx gatehouse bench`, or pass --serve-bin path/to/serve.js.' },
  ERR_BENCH_H2LOAD_MISSING: { status: 500, message: 'h2load is not on PATH', hint: 'Install it (apt-get install nghttp2-client, brew install nghttp2) or use --loadgen node-h2.' },
  ERR_BENCH_APP_MISSING: { status: 500, message: 'App file not found', hint: 'Pass the path of an app module, e.g. examples/hello/app.js.' },
  ERR_BENCH_BODY_FILE: { status: 500, message: 'Cannot read --body-file', hint: 'Pass a readable file whose bytes are the request body.' },
  ERR_BENCH_NOTHING_RAN: { status: 500, message: 'No engine or peer could be measured', hint: 'See the start-up errors above; fix the app or pick other engines.' },
} as const satisfies Record<string, CatalogueEntry>;

export type BenchErrorCode = keyof typeof BENCH_ERRORS;

export class BenchError extends Error {
  readonly code: BenchErrorCode;
  readonly detail: string | undefined;

  constructor(code: BenchErrorCode, detail?: string) {
    const entry = BENCH_ERRORS[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message);
    this.name = 'BenchError';
    this.code = code;
    this.detail = detail;
  }

  get hint(): string {
    return BENCH_ERRORS[this.code].hint;
  }

  toLine(): string {
    return `${this.code}: ${this.message}. ${this.hint}`;
  }
}
