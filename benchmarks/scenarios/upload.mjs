// Scenario "upload": POST / with a 64 KiB body; the app reads all of it and answers its length.
export default async function upload(request) {
  const bytes = await request.body.bytes();
  return { status: 200, headers: [['content-type', 'text/plain']], body: `received ${bytes.byteLength} bytes\n` };
}
