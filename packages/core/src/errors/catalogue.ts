/*
 * The one catalogue of Gatehouse errors. Each area keeps its entries in its own file (so
 * parallel work does not collide); this file joins them and the compiler checks that every
 * code has a status, a message and a hint. docs/errors.md is held to it by a test.
 */
import { HTTP_ERRORS } from './http.js';
import { APP_ERRORS } from './app.js';
import { SETTINGS_ERRORS } from './settings.js';
import { ENGINE_ERRORS } from './engine.js';
import { BENCH_ERRORS } from './bench.js';

export interface CatalogueEntry {
  /** HTTP status when this error answers a request; 500 for errors that never do. */
  readonly status: number;
  readonly message: string;
  /** What the reader should do about it. */
  readonly hint: string;
}

export const CATALOGUE = {
  ...HTTP_ERRORS,
  ...APP_ERRORS,
  ...SETTINGS_ERRORS,
  ...ENGINE_ERRORS,
  ...BENCH_ERRORS,
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof CATALOGUE;
