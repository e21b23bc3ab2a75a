#!/usr/bin/env node
// `gatehouse-bench`: the same program as `serve bench`, for use without the CLI. Plain JS so
// the bin exists before the first build; the program itself is compiled TypeScript in dist/.
import('../dist/src/main.js').then(
  async (bench) => { process.exitCode = await bench.benchMain(process.argv.slice(2)); },
  (error) => {
    if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/main.js')) {
      console.error('gatehouse-bench: Gatehouse is not built yet. Run `npx --yes pnpm@10.34.8 build` in the repository first.');
    } else {
      console.error(error);
    }
    process.exitCode = 1;
  },
);
