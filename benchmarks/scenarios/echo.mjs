// Echo: the app reads the whole request body and answers it back as it came. With a small body
// (benchmarks/threaded/post-1k.lua sends 1 KiB) it measures what a body costs in each direction
// on top of a hello; the peer is benchmarks/peers/node-http-echo.mjs.
export default async function echo(request) {
  const bytes = await request.body.bytes();
  return { status: 200, headers: [['content-type', 'application/octet-stream']], body: bytes };
}
