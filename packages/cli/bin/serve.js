#!/usr/bin/env node
// The `serve` command. Kept as plain JS so the bin exists before the first build; the
// program itself is compiled TypeScript in dist/.
import('../dist/src/main.js').then(
  (cli) => cli.main(process.argv.slice(2)),
  (error) => {
    if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/main.js')) {
      console.error('serve: Gatehouse is not built yet. Run `npx --yes pnpm@10.34.8 build` in the repository first.');
    } else {
      console.error(error);
    }
    process.exitCode = 1;
  },
);
