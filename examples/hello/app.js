// The benchmark app: every request gets 200 "Hello, World!" as text/plain, whatever its method
// or path (like the hello apps of most server benchmarks), and HEAD gets the same headers
// without the body. The response objects are built once: the server never mutates them.
const BODY = 'Hello, World!';
const GET = { status: 200, headers: [['content-type', 'text/plain']], body: BODY };
const HEAD = { status: 200, headers: [['content-type', 'text/plain'], ['content-length', String(BODY.length)]], body: null };

export default function hello(request) {
  return request.method === 'HEAD' ? HEAD : GET;
}
