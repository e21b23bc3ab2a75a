/*
 * The app specifier, Gunicorn's `module:variable` for files: `path`, `path:name`,
 * `path:a.b` (a property of an export) and `path:name()` (call it: a factory). The part after
 * the LAST colon counts as an export only when it looks like one, so Windows drive letters
 * (`C:\app.js`) and colons inside directory names stay part of the path.
 */
import { GatehouseError } from '../errors/index.js';

export interface AppSpec {
  readonly file: string;
  /** ['default'] when the spec names no export (the loader then also tries `app`). */
  readonly exportPath: readonly string[];
  readonly named: boolean;
  /** `path:factory()`: the export is called and its (awaited) result is the app. */
  readonly factory: boolean;
}

const EXPORT_SUFFIX = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?:\(\))?$/;

export function parseAppSpec(spec: string): AppSpec {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new GatehouseError('ERR_APP_NOT_FOUND', 'no app given (expected a path such as examples/hello/app.js)');
  }
  const colon = spec.lastIndexOf(':');
  if (colon > 0) {
    const suffix = spec.slice(colon + 1);
    if (EXPORT_SUFFIX.test(suffix)) {
      const factory = suffix.endsWith('()');
      const name = factory ? suffix.slice(0, -2) : suffix;
      return { file: spec.slice(0, colon), exportPath: name.split('.'), named: true, factory };
    }
  }
  return { file: spec, exportPath: ['default'], named: false, factory: false };
}

export function formatExportPath(spec: AppSpec): string {
  return spec.exportPath.join('.') + (spec.factory ? '()' : '');
}
