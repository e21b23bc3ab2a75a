// Scenario "hello": GET / -> 200 "Hello, World!" (used when examples/hello is absent).
import { HELLO_BODY } from './work.mjs';

export default function hello() {
  return { status: 200, headers: [['content-type', 'text/plain']], body: HELLO_BODY };
}
