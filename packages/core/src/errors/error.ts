/*
 * Errors are data: a stable code, an HTTP status, and a message that says what to do.
 * Codes survive postMessage and process.send (instanceof does not), so anything that crosses a
 * thread or process boundary is rebuilt from `toJSON()` with `GatehouseError.fromJSON`.
 */
import { CATALOGUE, type ErrorCode } from './catalogue.js';

export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly detail?: string;
  readonly stack?: string;
}

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;

  /** `detail` is the instance-specific part (a path, a value); the catalogue supplies the fix. */
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const entry = CATALOGUE[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message, options);
    this.name = 'GatehouseError';
    this.code = code;
    this.status = entry.status;
    this.detail = detail;
  }

  /** What to do about it, from the catalogue. */
  get hint(): string {
    return CATALOGUE[this.code].hint;
  }

  /**
   * One line for a terminal: the problem, then the fix. A multi-line detail (an app's stack, a
   * source excerpt with its caret) is folded onto the same line (see foldDetail), so a log
   * reader, a supervisor or `grep` sees the whole error as one record; the message itself keeps
   * every line for whoever reads `error.message` or the JSON log.
   */
  toLine(): string {
    const newline = this.message.indexOf('\n');
    if (newline === -1) return `${this.code}: ${this.message}. ${this.hint}`;
    const rest = foldDetail(this.message.slice(newline + 1));
    return `${this.code}: ${this.message.slice(0, newline)}${rest.startsWith('near `') ? ' ' : ': '}${rest}. ${this.hint}`;
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, detail: this.detail, stack: this.stack };
  }

  static fromJSON(data: SerializedError): GatehouseError {
    const error = new GatehouseError(data.code, data.detail);
    if (data.stack) error.stack = data.stack;
    return error;
  }
}

/** Frames shown on the folded line; the innermost come first, and they name the app's file:line. */
const FOLDED_FRAMES = 6;

/**
 * Folds an error's multi-line text onto one line: `Error: deep failure at deep (/app.js:1:25)
 * <- outer (/app.js:2:20) <- /app.js:3:1`. Frames are "at ..." lines (file URLs shown as
 * paths); a source line followed by a caret line becomes `near \`source\``; blank and caret
 * lines are dropped.
 */
function foldDetail(text: string): string {
  const lines = text.split('\n').map((line) => line.trim());
  const parts: string[] = [];
  let frames: string[] = [];
  const flushFrames = () => {
    if (frames.length === 0) return;
    const shown = frames.slice(0, FOLDED_FRAMES).join(' <- ');
    parts[parts.length - 1] = `${parts[parts.length - 1] ?? ''} at ${shown}${frames.length > FOLDED_FRAMES ? ' <- ...' : ''}`.trim();
    frames = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' || /^\^+$/.test(line)) continue;
    if (line.startsWith('at ')) { frames.push(line.slice(3).replace(/file:\/\//g, '')); continue; }
    flushFrames();
    parts.push(/^\^+$/.test(lines[i + 1] ?? '') ? `near \`${line}\`` : line);
  }
  flushFrames();
  return parts.join(': ').replace(/: near `/g, ' near `');
}

export function isGatehouseError(value: unknown): value is GatehouseError {
  return value instanceof GatehouseError ||
    (typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string' &&
      (value as { code: string }).code in CATALOGUE && (value as { name?: unknown }).name === 'GatehouseError');
}
