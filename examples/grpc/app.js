// examples/grpc: a gRPC service (greeter.proto) written as a plain Gateway app. The gRPC
// framing is in grpc.js; messages are protobuf, (de)serialised by protobufjs from the .proto.
// Serve it over HTTP/2 (h2c with prior knowledge on a plain port, h2 by ALPN under TLS):
//   serve examples/grpc
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { GrpcError, Status, errorResponse, readMessages, streamResponse, unaryResponse } from './grpc.js';

const root = protobuf.loadSync(fileURLToPath(new URL('./greeter.proto', import.meta.url)));
const type = (name) => root.lookupType(`gatehouse.example.${name}`);
const HelloRequest = type('HelloRequest');
const HelloReply = type('HelloReply');
const CountRequest = type('CountRequest');
const CountReply = type('CountReply');

const MAX_COUNT = 1000;
const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

function sayHello({ name }) {
  if (!name) throw new GrpcError(Status.INVALID_ARGUMENT, 'name is required');
  return unaryResponse(HelloReply.encode({ message: `Hello, ${name}!` }).finish());
}

function countUp({ name, count, intervalMs, failAfter }, signal) {
  if (count < 0 || count > MAX_COUNT) throw new GrpcError(Status.OUT_OF_RANGE, `count must be 0 to ${MAX_COUNT}`);
  return streamResponse((async function* () {
    for (let n = 1; n <= count && !signal.aborted; n++) {
      if (failAfter > 0 && n > failAfter) throw new GrpcError(Status.ABORTED, `stopped after ${failAfter} replies, as asked`);
      yield CountReply.encode({ n, message: `${name} ${n}` }).finish();
      if (intervalMs > 0) await sleep(intervalMs, signal);
    }
  })());
}

/** path -> [request type, handler] */
const METHODS = {
  '/gatehouse.example.Greeter/SayHello': [HelloRequest, sayHello],
  '/gatehouse.example.Greeter/CountUp': [CountRequest, countUp],
};

export default async function app(request) {
  if (request.method !== 'POST' || !(request.headers.get('content-type') ?? '').startsWith('application/grpc')) {
    return { status: 415, headers: [['content-type', 'text/plain']], body: 'gRPC only: POST with content-type application/grpc over HTTP/2\n' };
  }
  try {
    const method = METHODS[request.path];
    if (!method) throw new GrpcError(Status.UNIMPLEMENTED, `no method ${request.path}`);
    const [RequestType, handler] = method;
    const messages = readMessages(await request.body.bytes());
    if (messages.length !== 1) throw new GrpcError(Status.INTERNAL, `expected one request message, got ${messages.length}`);
    return handler(RequestType.toObject(RequestType.decode(messages[0]), { defaults: true }), request.signal);
  } catch (error) {
    return errorResponse(error);
  }
}
