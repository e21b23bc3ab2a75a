// GET / -> 200 "Hello, World!"
export default function hello(request) {
  return { status: 200, headers: [['content-type', 'text/plain']], body: 'Hello, World!' };
}
