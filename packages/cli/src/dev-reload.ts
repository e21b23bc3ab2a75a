/*
 * --reload (development): watch the app's directory tree and any --reload-extra-file, and ask
 * the engine for its own zero-downtime reload once the files have been quiet for a moment, so
 * an editor's burst of writes is one reload.
 *
 * Watching is chokidar's: it follows atomic saves (an editor or `sed -i` writes a temp file
 * and renames it over the original, which replaces the inode a bare fs.watch was following),
 * files and directories created after start, and deletions. Changes under node_modules, .git,
 * dist and .turbo, dot-files, editor droppings (foo~, .swp) and paths matching a --reload-ignore
 * glob never reload; a directory ignored is not even descended into.
 *
 * A reload whose new code fails to load is logged by the action loop and the previous version
 * keeps serving (every engine boots the new code before retiring the old); the next save
 * that loads reloads as usual.
 */
import path from 'node:path';
import type { Settings } from '@gatehouse/core';
import { watch } from 'chokidar';
import picomatch from 'picomatch';
import type { Logger } from 'pino';

/** Path segments that never reload: dependencies, VCS, build output, caches, dot-files, editor temp files. */
const ALWAYS_IGNORED = /(^|[/\\])(node_modules|\.git|dist|\.turbo)([/\\]|$)|(^|[/\\])\.[^/\\]*$|~$|\.sw[a-p]$|(^|[/\\])4913$/;

/** Quiet time after the last change before reloading: long enough for an editor's write-rename pair. */
export const RELOAD_DEBOUNCE_MS = 200;

export interface ReloadWatchOptions {
  /** The app's directory: watched recursively, --reload-ignore globs are relative to it. */
  readonly root: string;
  /** More files or directories to watch (absolute), never ignored. */
  readonly extra?: readonly string[];
  /** Globs relative to root; one without a slash matches a file name at any depth. */
  readonly ignore?: readonly string[];
  readonly debounceMs?: number;
  /** The files that changed (added, changed or removed) since the last call, after a quiet period. */
  onChange(files: string[]): void;
  onError?(error: Error): void;
}

export interface Watcher {
  /** Settles when the initial scan is done: from then on every change is seen. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export function watchForReload(options: ReloadWatchOptions): Watcher {
  const { root, extra = [], debounceMs = RELOAD_DEBOUNCE_MS } = options;
  const ignoredGlob = options.ignore && options.ignore.length > 0 ? picomatch([...options.ignore], { dot: true, basename: true }) : () => false;
  const extras = new Set(extra.map((file) => path.resolve(file)));
  const ignored = (file: string): boolean => {
    if (extras.has(file)) return false;
    const relative = path.relative(root, file);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return false;
    return ALWAYS_IGNORED.test(relative) || ignoredGlob(relative.split(path.sep).join('/'));
  };

  let timer: NodeJS.Timeout | null = null;
  const changed = new Set<string>();
  const watcher = watch([root, ...extras], { ignored, ignoreInitial: true, atomic: true });
  watcher.on('all', (event, file) => {
    if (event === 'addDir') return; // an empty directory changes no code; the files that land in it will
    changed.add(file);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      const files = [...changed];
      changed.clear();
      options.onChange(files);
    }, debounceMs);
  });
  const ready = new Promise<void>((resolve) => watcher.once('ready', resolve));
  watcher.on('error', (error) => options.onError?.(error instanceof Error ? error : new Error(String(error))));
  return {
    ready,
    close: async () => {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}

/** --reload as `serve` runs it: the app's directory and the extra files, each reload logged with what changed. */
export function watchAppFiles(settings: Pick<Settings, 'app' | 'reloadExtraFile' | 'reloadIgnore'>, cwd: string, logger: Logger, reload: () => void): Watcher {
  const root = appDirectory(settings.app, cwd);
  const watcher = watchForReload({
    root,
    extra: settings.reloadExtraFile.map((file) => path.resolve(cwd, file)),
    ignore: settings.reloadIgnore,
    onError: (error) => logger.warn({ event: 'watch-error', err: error }, `--reload: ${error.message}`),
    onChange: (files) => {
      const shown = files.slice(0, 3).map((file) => path.relative(cwd, file) || file).join(', ') + (files.length > 3 ? ` and ${files.length - 3} more` : '');
      logger.info({ event: 'change', files }, `${shown} changed; reloading`);
      reload();
    },
  });
  void watcher.ready.then(() => logger.info({ event: 'watching', directory: root, extra: settings.reloadExtraFile }, `--reload: watching ${root} for changes`));
  return watcher;
}

/** The directory holding the app module of a spec like path/to/app.js or path/to/app.js:name. */
export function appDirectory(spec: string, cwd: string): string {
  const colon = spec.lastIndexOf(':');
  const file = colon > 1 ? spec.slice(0, colon) : spec;
  return path.dirname(path.resolve(cwd, file));
}
