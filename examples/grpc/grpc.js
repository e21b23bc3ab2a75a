// gRPC over HTTP/2 as plain Gateway Interface data (the wire format of
// https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md), no gRPC server library:
// - a message on the wire is 1 byte compressed flag + 4 bytes big-endian length + the bytes;
// - the answer is `content-type: application/grpc`, its messages framed the same way, and the
//   status in the trailers: `grpc-status` (0 = OK) and, on an error, `grpc-message`
//   (percent-encoded). Trailers are the function form, so a stream decides its status at the end.

/** Status codes used here (grpc/doc/statuscodes.md). */
export const Status = { OK: 0, INVALID_ARGUMENT: 3, OUT_OF_RANGE: 11, ABORTED: 10, UNIMPLEMENTED: 12, INTERNAL: 13 };

/** An error the handler throws to end the call with that status. */
export class GrpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const HEADER = 5;

/** One length-prefixed message. */
export function frameMessage(bytes) {
  const framed = new Uint8Array(HEADER + bytes.length);
  new DataView(framed.buffer).setUint32(1, bytes.length);
  framed.set(bytes, HEADER);
  return framed;
}

/** The messages of a request body, in order. Compression is not negotiated here, so a compressed one is an error. */
export function readMessages(body) {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const messages = [];
  for (let at = 0; at < body.length;) {
    if (body.length - at < HEADER) throw new GrpcError(Status.INTERNAL, 'truncated message header');
    if (body[at] !== 0) throw new GrpcError(Status.UNIMPLEMENTED, 'compressed messages are not supported');
    const length = view.getUint32(at + 1);
    if (body.length - at - HEADER < length) throw new GrpcError(Status.INTERNAL, 'truncated message');
    messages.push(body.subarray(at + HEADER, at + HEADER + length));
    at += HEADER + length;
  }
  return messages;
}

/** grpc-message is percent-encoded: bytes outside printable ASCII, and '%'. */
function encodeMessage(text) {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

export function statusTrailers(code, message) {
  const fields = [['grpc-status', String(code)]];
  if (code !== Status.OK && message) fields.push(['grpc-message', encodeMessage(message)]);
  return fields;
}

const GRPC_HEADERS = [['content-type', 'application/grpc']];

/** A call that failed before any message: no body, the status in the trailers. */
export function errorResponse(error) {
  const code = error instanceof GrpcError ? error.code : Status.INTERNAL;
  const message = error instanceof GrpcError ? error.message : 'internal error';
  return { status: 200, headers: GRPC_HEADERS, body: null, trailers: statusTrailers(code, message) };
}

/** One reply message and OK. */
export function unaryResponse(bytes) {
  return { status: 200, headers: GRPC_HEADERS, body: frameMessage(bytes), trailers: statusTrailers(Status.OK) };
}

/**
 * A server stream: each value `replies` yields is one framed message; the status is OK when
 * it ends, or the error it throws (after the messages already sent).
 */
export function streamResponse(replies) {
  let trailers = statusTrailers(Status.OK);
  const body = (async function* () {
    try {
      for await (const bytes of replies) yield frameMessage(bytes);
    } catch (error) {
      trailers = errorResponse(error).trailers;
    }
  })();
  return { status: 200, headers: GRPC_HEADERS, body, trailers: () => trailers };
}
