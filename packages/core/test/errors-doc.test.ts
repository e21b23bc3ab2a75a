/*
 * docs/errors.md is generated from the catalogues (core's and the bench tool's); this test
 * holds them together (fastify's errors test): every code documented, no documented code that
 * does not exist, and no entry whose status, message or hint has drifted. The failure message says how to regenerate.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { CATALOGUE as CORE_CATALOGUE } from '../src/index.js';

const ROOT = new URL('../../../../', import.meta.url);
// The bench tool keeps its own catalogue; the doc covers both.
const { BENCH_ERRORS } = await import(new URL('packages/bench/dist/src/errors.js', ROOT).href) as { BENCH_ERRORS: Record<string, { status: number; message: string; hint: string }> };
const CATALOGUE = { ...CORE_CATALOGUE, ...BENCH_ERRORS };
const SCRIPT = new URL('scripts/gen-errors-doc.mjs', ROOT);
const DOC = fileURLToPath(new URL('docs/errors.md', ROOT));

interface Generator {
  renderErrorsDoc(): Promise<string>;
  documentedCodes(markdown: string): string[];
  REGENERATE: string;
}

const generator = (await import(pathToFileURL(fileURLToPath(SCRIPT)).href)) as Generator;
const doc = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '';
const regenerate = `Regenerate it: ${generator.REGENERATE}`;

describe('docs/errors.md', { timeout: 10_000 }, () => {
  it('documents every code in the catalogue', () => {
    const documented = new Set(generator.documentedCodes(doc));
    const missing = Object.keys(CATALOGUE).filter((code) => !documented.has(code));
    assert.deepEqual(missing, [], `docs/errors.md is missing ${missing.join(', ')}. ${regenerate}`);
  });

  it('documents no code that does not exist', () => {
    const extra = generator.documentedCodes(doc).filter((code) => !(code in CATALOGUE));
    assert.deepEqual(extra, [], `docs/errors.md lists ${extra.join(', ')}, which the catalogue does not have. ${regenerate}`);
  });

  it('documents each code once', () => {
    const codes = generator.documentedCodes(doc);
    const twice = codes.filter((code, index) => codes.indexOf(code) !== index);
    assert.deepEqual(twice, [], `docs/errors.md lists ${twice.join(', ')} more than once. ${regenerate}`);
  });

  it('shows each code\'s current status, message and hint', () => {
    for (const [code, { status, message, hint }] of Object.entries(CATALOGUE)) {
      const section = new RegExp(`^### ${code}\\n\\n- Status: (.*)\\n- Message: (.*)\\n- Hint: (.*)$`, 'm').exec(doc);
      if (!section) continue; // reported by the first test
      assert.deepEqual(section.slice(1), [String(status), message, hint], `docs/errors.md is stale for ${code}. ${regenerate}`);
    }
  });

  it('is exactly what the generator writes (no hand edits)', async () => {
    assert.ok(doc === await generator.renderErrorsDoc(), `docs/errors.md differs from the generated text. ${regenerate}`);
  });

  it('every catalogue entry has a hint that says what to do (not empty, ends a sentence)', () => {
    for (const [code, { hint, message }] of Object.entries(CATALOGUE)) {
      assert.ok(message.length > 0 && !message.endsWith('.'), `${code}: message must be a phrase without a final period (toLine adds one)`);
      assert.match(hint, /\S.*[.)]$/, `${code}: the hint must be a sentence`);
    }
  });
});
