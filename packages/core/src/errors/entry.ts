/*
 * The shape of a catalogue entry, in a file of its own so the area files (http.ts, app.ts, ...)
 * and catalogue.ts, which joins them, do not import each other.
 */
export interface CatalogueEntry {
  /** HTTP status when this error answers a request; 500 for errors that never do. */
  readonly status: number;
  readonly message: string;
  /** What the reader should do about it. */
  readonly hint: string;
}
