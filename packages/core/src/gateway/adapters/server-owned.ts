/*
 * Response fields that describe the connection, not the message (RFC 9110 7.6.1), belong to
 * the server: Gatehouse frames the body and manages keep-alive itself. Frameworks written for
 * node:http sometimes set them (`Transfer-Encoding: chunked`, `Connection: keep-alive`), so
 * both adapters drop them rather than hand the protocol layer a response it must refuse.
 * `Connection: close` is kept: it is the app asking for the connection to end.
 */
const SERVER_OWNED = new Set(['transfer-encoding', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection']);

/** `name` must be lower-case. True when the field is the server's to write, not the app's. */
export function isServerOwned(name: string, value: string): boolean {
  if (SERVER_OWNED.has(name)) return true;
  return name === 'connection' && value.trim().toLowerCase() !== 'close';
}
