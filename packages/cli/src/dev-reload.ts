/*
 * --reload (development): watch the app's directory and ask the engine for its own
 * zero-downtime reload after a quiet period, so an editor's burst of writes is one reload.
 * A reload whose new code fails to load is logged by the action loop, and the previous
 * version keeps serving (the engine boots the new generation before retiring the old).
 */
import fs from 'node:fs';
import path from 'node:path';

const IGNORED = /(^|[/\\])(node_modules|\.git|\.turbo)([/\\]|$)|(^|[/\\])\.[^/\\]*$|~$|\.swp$/;

export interface Watcher { close(): void }

export function watchForReload(directory: string, onChange: (file: string) => void, debounceMs = 150): Watcher {
  let timer: NodeJS.Timeout | null = null;
  let lastFile = '';
  const watcher = fs.watch(directory, { recursive: true }, (_event, filename) => {
    const file = filename ? String(filename) : '';
    if (file && IGNORED.test(file)) return;
    lastFile = file;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; onChange(path.join(directory, lastFile)); }, debounceMs);
  });
  watcher.on('error', () => { /* the directory went away; nothing left to watch */ });
  watcher.unref();
  return { close: () => { if (timer) clearTimeout(timer); watcher.close(); } };
}

/** The directory holding the app module of a spec like path/to/app.js or path/to/app.js:name. */
export function appDirectory(spec: string, cwd: string): string {
  const colon = spec.lastIndexOf(':');
  const file = colon > 1 ? spec.slice(0, colon) : spec;
  return path.dirname(path.resolve(cwd, file));
}
