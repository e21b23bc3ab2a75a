// Scenario "mixed": one app that routes to the other scenarios' work, so a load generator that
// cycles through /hello, /io, /cpu, /upload sees an app with mixed costs, as real ones have.
import hello from './hello.mjs';
import cpu from './cpu.mjs';
import io from './io.mjs';
import upload from './upload.mjs';

const routes = { '/hello': hello, '/cpu': cpu, '/io': io, '/upload': upload };

export default function mixed(request) {
  const route = routes[request.path];
  if (!route) return { status: 404, headers: [['content-type', 'text/plain']], body: 'not found\n' };
  return route(request);
}
