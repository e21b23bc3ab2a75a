/*
 * The one catalogue of Gatehouse errors. Each area keeps its entries in its own file (so
 * parallel work does not collide); this file joins them and the compiler checks that every
 * code has a status, a message and a hint. docs/errors.md is held to it by a test. (The bench
 * tool's usage errors are its own: packages/bench/src/errors.ts.)
 */
import { HTTP_ERRORS } from './http.js';
import { APP_ERRORS } from './app.js';
import { SETTINGS_ERRORS } from './settings.js';
import { ENGINE_ERRORS } from './engine.js';
import { CONTROL_ERRORS } from './control.js';
import type { CatalogueEntry } from './entry.js';

export type { CatalogueEntry };

export const CATALOGUE = {
  ...HTTP_ERRORS,
  ...APP_ERRORS,
  ...SETTINGS_ERRORS,
  ...ENGINE_ERRORS,
  ...CONTROL_ERRORS,
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof CATALOGUE;
