/*
 * The four spellings of a setting's name, derived from its camelCase key in the table:
 * `--max-requests` (flag), `max_requests` / `max-requests` / `maxRequests` (config-file keys,
 * snake_case as Gunicorn's config files use), and `GATEHOUSE_MAX_REQUESTS` (environment).
 */
export const ENV_PREFIX = 'GATEHOUSE_';

/** maxRequests -> max-requests */
export function flagName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** maxRequests -> max_requests */
export function snakeName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** maxRequests -> GATEHOUSE_MAX_REQUESTS */
export function envName(name: string): string {
  return ENV_PREFIX + snakeName(name).toUpperCase();
}

/** max-requests, max_requests, MAX_REQUESTS, maxRequests -> maxRequests */
export function camelName(key: string): string {
  const lower = /[a-z]/.test(key) ? key : key.toLowerCase();
  return lower.replace(/[-_]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}
