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
   * One line for a terminal: the problem, then the fix. A multi-line detail (an app's stack)
   * follows on the lines after it, so the fix is never lost at the end of a stack frame.
   */
  toLine(): string {
    const newline = this.message.indexOf('\n');
    if (newline === -1) return `${this.code}: ${this.message}. ${this.hint}`;
    return `${this.code}: ${this.message.slice(0, newline)}. ${this.hint}\n${this.message.slice(newline + 1)}`;
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

export function isGatehouseError(value: unknown): value is GatehouseError {
  return value instanceof GatehouseError ||
    (typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string' &&
      (value as { code: string }).code in CATALOGUE && (value as { name?: unknown }).name === 'GatehouseError');
}
