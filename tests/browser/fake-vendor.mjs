// A fake BambooHR for the verification request of crates/catalog/tools/bamboohr.toml:
// GET {base}/v1/employees/directory with Basic auth "{api_key}:x", where the tests set
// base = http://127.0.0.1:<port>/api/gateway.php/{subdomain}.
// It accepts the API key "good-key" (200) and refuses every other (401), and records every
// request so a test can check what Plugboard sent.

import { listen } from './helpers.mjs';

export const GOOD_KEY = 'good-key';

const DIRECTORY = /^\/api\/gateway\.php\/([^/]+)\/v1\/employees\/directory$/;

export async function startFakeBambooHR() {
  const requests = [];
  const server = await listen((request, response) => {
    const { pathname } = new URL(request.url, 'http://127.0.0.1');
    const match = DIRECTORY.exec(pathname);
    requests.push({
      method: request.method,
      path: pathname,
      subdomain: match ? decodeURIComponent(match[1]) : null,
      headers: { ...request.headers },
    });
    request.resume();
    if (!match || request.method !== 'GET') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const expected = `Basic ${Buffer.from(`${GOOD_KEY}:x`).toString('base64')}`;
    if (request.headers.authorization !== expected) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ fields: [], employees: [{ id: '1', displayName: 'Ada Lovelace' }] }));
  });
  return {
    ...server,
    requests,
    /** The base URL template for PLUGBOARD_TOOL_BASE_URLS. */
    base: `${server.origin}/api/gateway.php/{subdomain}`,
  };
}
