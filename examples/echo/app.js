// Echoes the request back as JSON: what the app saw, field by field, for tests and debugging.
//   target      the raw request-target        path   its percent-decoded path
//   query       the raw query, without '?'    httpVersion  "1.0" or "1.1"
//   headers     [[name, value], ...], lower-cased names in arrival order
//   body        the body's bytes decoded as latin1 (so every byte maps to one character)
//   bodyLength  how many bytes the body had
// A HEAD request gets the same status and content-type, without a body.
export default async function echo(request) {
  const bytes = await request.body.bytes();
  const json = JSON.stringify({
    method: request.method,
    target: request.target,
    path: request.path,
    query: request.query,
    httpVersion: request.httpVersion,
    headers: request.headers.toJSON(),
    body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'),
    bodyLength: bytes.byteLength,
  });
  return {
    status: 200,
    headers: [['content-type', 'application/json']],
    body: request.method === 'HEAD' ? null : json,
  };
}
