/*
 * PROVISIONAL entry point: serve APP [--bind HOST:PORT] [--engine NAME]. The settings-driven
 * yargs CLI replaces this file.
 */
import { SingleEngine, defaultSettings, isGatehouseError, type Settings } from '@gatehouse/core';

export async function main(argv: string[]): Promise<void> {
  const settings: Settings = defaultSettings();
  const binds: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--bind' || arg === '-b') binds.push(argv[++i]!);
    else if (arg.startsWith('--bind=')) binds.push(arg.slice(7));
    else if (arg === '--engine' || arg === '-e') settings.engine = argv[++i]!;
    else if (arg.startsWith('--engine=')) settings.engine = arg.slice(9);
    else settings.app = arg;
  }
  if (binds.length) settings.bind = binds;
  const engine = new SingleEngine({ settings, app: { kind: 'module', spec: settings.app } });
  try {
    await engine.start();
  } catch (error) {
    console.error(isGatehouseError(error) ? `serve: ${error.toLine()}` : error);
    process.exit(1);
  }
  console.log(`gatehouse: listening on ${engine.addresses.map((a) => a.url).join(', ')}`);
  const stop = (graceful: boolean) => () => { void engine.stop({ graceful }).then(() => process.exit(0)); };
  process.on('SIGTERM', stop(true));
  process.on('SIGINT', stop(false));
  process.on('SIGHUP', () => { void engine.reload(); });
}
