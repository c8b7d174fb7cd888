// The embedded-flow guide's back end, pointed at Plugboard: the guide's three routes, unchanged
// in shape, plus a page with the "Connect HRIS" button. Configuration comes from the
// environment (see README.md):
//
//   PLUGBOARD_URL             Plugboard's address, e.g. http://127.0.0.1:8080
//   PLUGBOARD_API_KEY         an API key (plugboard api-keys create …)
//   PLUGBOARD_WEBHOOK_SECRET  the secret `plugboard webhooks add …` printed (optional)
//   CONNECT_SDK               `plugboard` (default: the script Plugboard serves) or `kombo`
//                             (Kombo's unmodified @kombo-api/connect, to show it is a drop-in)
//   PORT                      default 3000

import { createHmac, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';

import express from 'express';
import { Webhook } from 'standardwebhooks';

const PLUGBOARD_URL = (process.env.PLUGBOARD_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const API_KEY = process.env.PLUGBOARD_API_KEY;
const WEBHOOK_SECRET = process.env.PLUGBOARD_WEBHOOK_SECRET;
const CONNECT_SDK = process.env.CONNECT_SDK ?? 'plugboard';
const PORT = Number(process.env.PORT ?? 3000);

if (!API_KEY) {
  console.error('Set PLUGBOARD_API_KEY (create one with: plugboard api-keys create --environment development --name example)');
  process.exit(2);
}

// The "database" of this example: the signed-in user, and what we stored.
const user = { email: 'admin@acme.example', company: { id: 'acme', name: 'Acme, Inc.' } };
const stored = { integrations: [], webhooks: [] };

/** Calls Plugboard's API as the guide calls Kombo's; resolves to `data`. */
async function plugboard(method, apiPath, body) {
  const response = await fetch(`${PLUGBOARD_URL}/v1${apiPath}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(json.error?.message ?? `Plugboard answered ${response.status}`);
  return json.data;
}

const app = express();

// The guide's first route: a link for the signed-in user's company.
app.post('/integrations/kombo/init', express.json(), async (req, res) => {
  try {
    const data = await plugboard('POST', '/connect/create-link', {
      end_user_email: user.email,
      end_user_organization_name: user.company.name,
      end_user_origin_id: user.company.id,
      integration_category: req.body?.category === 'ATS' ? 'ATS' : 'HRIS',
    });
    res.send({ link: data.link });
  } catch (error) {
    res.status(502).send({ error: error.message });
  }
});

// The guide's second route: exchange the activation token for the integration and store it.
app.post('/integrations/kombo/activate', express.json(), async (req, res) => {
  const token = String(req.body?.token ?? '');
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return res.status(400).send({ error: 'send {"token": "…"}' });
  try {
    const integration = await plugboard('GET', `/connect/integration-by-token/${token}`);
    stored.integrations.push({ id: integration.id, tool: integration.tool, customer: integration.end_user_origin_id });
    res.sendStatus(200);
  } catch (error) {
    res.status(502).send({ error: error.message });
  }
});

// The guide's webhook route, with the signature verified on the raw body (parsing first and
// re-serialising can change the bytes that were signed).
app.post('/webhooks/kombo/integration-created', express.raw({ type: 'application/json' }), (req, res) => {
  if (!WEBHOOK_SECRET) return res.status(503).send('PLUGBOARD_WEBHOOK_SECRET is not set');
  const body = req.body.toString('utf8');
  // Kombo's scheme: base64url HMAC-SHA256 of the body, keyed with the secret string.
  const expected = createHmac('sha256', WEBHOOK_SECRET).update(req.body).digest('base64url');
  const given = req.get('x-kombo-signature') ?? '';
  const kombo = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
  // Standard Webhooks: signature, timestamp (replays older than 5 minutes fail) and id.
  let standard = true;
  try {
    new Webhook(WEBHOOK_SECRET).verify(body, req.headers);
  } catch {
    standard = false;
  }
  if (!kombo || !standard) return res.status(401).send('bad signature');
  const event = JSON.parse(body);
  // Deliveries are at least once: the event id (webhook-id) tells repeats apart.
  if (!stored.webhooks.some((seen) => seen.id === event.id)) {
    stored.webhooks.push({ id: event.id, type: event.type, integration: event.data.id, verified: true });
  }
  res.send('Webhook received successfully');
});

app.get('/stored', (req, res) => res.send(stored));

// Kombo's SDK from its npm package, for CONNECT_SDK=kombo.
const require = createRequire(import.meta.url);
const komboPackage = require.resolve('@kombo-api/connect/package.json');
const komboBundle = path.join(path.dirname(komboPackage), require(komboPackage).umd);
app.get('/vendor/kombo-connect.js', (req, res) => res.sendFile(komboBundle));

// The front end: the guide's connectHris(), with the SDK loaded by a script tag.
app.get('/', (req, res) => {
  const sdk =
    CONNECT_SDK === 'kombo'
      ? '<script src="/vendor/kombo-connect.js"></script><script>var Connect = KomboConnect;</script>'
      : `<script src="${PLUGBOARD_URL}/sdk/plugboard-connect-0.1.0.min.js"></script><script>var Connect = PlugboardConnect;</script>`;
  res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme HR app</title>${sdk}</head>
<body>
<h1>Acme HR app</h1>
<button type="button" onclick="connectHris()">Connect HRIS</button>
<p role="status" id="status"></p>
<script>
  async function getKomboConnectLink() {
    const response = await fetch('/integrations/kombo/init', { method: 'POST' });
    const data = await response.json();
    return data.link;
  }
  async function activateKomboIntegration(token) {
    await fetch('/integrations/kombo/activate', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token }),
    });
  }
  async function connectHris() {
    const status = document.getElementById('status');
    try {
      const link = await getKomboConnectLink();
      const activationToken = await Connect.showKomboConnect(link);
      await activateKomboIntegration(activationToken);
      status.textContent = 'Connected.';
    } catch (error) {
      status.textContent = error instanceof Connect.KomboConnectCancelledError ? 'Cancelled.' : 'Failed: ' + error.message;
    }
  }
</script>
</body></html>`);
});

app.listen(PORT, '127.0.0.1', () => {
  console.log(`Acme HR app on http://127.0.0.1:${PORT}/ (Plugboard at ${PLUGBOARD_URL}, ${CONNECT_SDK} SDK)`);
});
