// A real OAuth 2.0 authorization server (panva's oidc-provider) on loopback, standing in for the
// vendors of Plugboard's OAuth tools (Gusto, Deel, Lever, ...) in the Rust and browser tests.
// Tests must exercise a real server's rules (PKCE, rotation, reuse detection, RFC 9207 `iss`),
// not a hand-written fake that only agrees with our own client. See README.md for the HTTP
// sequence and the control endpoints.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

// oidc-provider prints its start-up notices with console.info (stdout) and console.warn, and
// the command-line mode promises exactly one JSON line on stdout; its notices are dropped unless
// PLUGBOARD_OAUTH_DEBUG is set, and then go to stderr. Installed before the dynamic import
// because some are printed while the module loads (e.g. the Node 20 "unsupported runtime" one).
const DEBUG = Boolean(process.env.PLUGBOARD_OAUTH_DEBUG);
const NOTICE = /^(?:\x1b\[[\d;]*m)?oidc-provider (?:NOTICE|WARNING): /;
for (const level of ['info', 'warn']) {
  const original = console[level];
  console[level] = (...args) => {
    if (typeof args[0] === 'string' && NOTICE.test(args[0])) {
      if (DEBUG) console.error(...args);
      return;
    }
    original(...args);
  };
}
const { default: Provider, interactionPolicy } = await import('oidc-provider');

/** Password every test login uses; any non-empty login name is accepted with it. */
export const PASSWORD = 'secret';

const HOST = '127.0.0.1';
const REFRESH_TOKEN_TTL = 24 * 60 * 60;
// Models whose records hang off a grant, so revoking the grant must delete them.
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

const epochTime = () => Math.floor(Date.now() / 1000);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function debug(...args) {
  if (DEBUG) console.error('[oauth-provider]', ...args);
}

/**
 * Key/value storage with per-entry expiry. A plain Map rather than oidc-provider's bounded LRU,
 * so a long test run never silently evicts a live token.
 */
class Store {
  #entries = new Map();

  get(key) {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key, value, expiresInSeconds) {
    const expiresAt = typeof expiresInSeconds === 'number' ? Date.now() + expiresInSeconds * 1000 : undefined;
    this.#entries.set(key, { value, expiresAt });
  }

  delete(key) {
    this.#entries.delete(key);
  }

  keys() {
    return [...this.#entries.keys()];
  }
}

/**
 * oidc-provider's MemoryAdapter pattern, except that `Client` lookups read a runtime map, so a
 * test can register Plugboard's callback URL after the provider started (the port is only known
 * then).
 */
class TestAdapter {
  constructor(model, store, clients) {
    this.model = model;
    this.store = store;
    this.clients = clients;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    if (this.model === 'Client') {
      this.clients.set(id, payload);
      return;
    }
    const key = this.key(id);
    if (this.model === 'Session') {
      this.store.set(`sessionUid:${payload.uid}`, id, expiresIn);
    }
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      const members = this.store.get(grantKey) ?? new Set();
      members.add(key);
      // Kept as long as a refresh token could still point at it.
      this.store.set(grantKey, members, Math.max(expiresIn ?? 0, REFRESH_TOKEN_TTL));
    }
    if (payload.userCode) {
      this.store.set(`userCode:${payload.userCode}`, id, expiresIn);
    }
    this.store.set(key, payload, expiresIn);
  }

  async find(id) {
    if (this.model === 'Client') {
      const client = this.clients.get(id);
      return client ? structuredClone(client) : undefined;
    }
    return this.store.get(this.key(id));
  }

  async findByUid(uid) {
    const id = this.store.get(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = this.store.get(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = this.store.get(this.key(id));
    if (payload) payload.consumed = epochTime();
  }

  async destroy(id) {
    if (this.model === 'Client') {
      this.clients.delete(id);
      return;
    }
    this.store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    for (const key of this.store.get(grantKey) ?? []) this.store.delete(key);
    this.store.delete(grantKey);
  }
}

/** Registration metadata of a test client, with the grant and response types every vendor uses. */
function clientMetadata(input) {
  if (!input || typeof input !== 'object') throw new TypeError('client metadata must be an object');
  const { client_id, client_secret, redirect_uris } = input;
  if (typeof client_id !== 'string' || !client_id) throw new TypeError('client_id is required');
  if (typeof client_secret !== 'string' || !client_secret) throw new TypeError('client_secret is required');
  if (!Array.isArray(redirect_uris) || redirect_uris.length === 0) {
    throw new TypeError('redirect_uris must be a non-empty array');
  }
  const method = input.token_endpoint_auth_method ?? 'client_secret_basic';
  if (!['client_secret_basic', 'client_secret_post'].includes(method)) {
    throw new TypeError('token_endpoint_auth_method must be client_secret_basic or client_secret_post');
  }
  return {
    client_id,
    client_secret,
    redirect_uris: [...redirect_uris],
    token_endpoint_auth_method: method,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  };
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage({ uid, clientId, scope, error, login = '' }) {
  const scopes = (scope ?? '').split(' ').filter(Boolean);
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to the test vendor</title></head>
<body>
<main>
<h1>Sign in to the test vendor</h1>
<p><strong>${escapeHtml(clientId)}</strong> asks for: ${scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(', ') || 'no scopes'}</p>
${error ? `<p role="alert" class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}">
<label for="login">Login</label>
<input id="login" name="login" autocomplete="username" value="${escapeHtml(login)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</main>
</body>
</html>`;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function sendHtml(res, status, html) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
  });
  res.end(html);
}

function positiveInteger(value, name) {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new TypeError(`${name} must be a positive integer (seconds)`);
  return number;
}

function nonNegativeNumber(value, name) {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new TypeError(`${name} must be a non-negative number`);
  return number;
}

/**
 * Starts an authorization server on 127.0.0.1 (port 0 by default) and resolves once it listens.
 *
 * Options: `port`, `accessTokenTtl` (seconds, default 60), `tokenDelayMs` (default 0) and
 * `clients` (registration metadata, as for `addClient`).
 */
export async function startProvider(options = {}) {
  const state = {
    accessTokenTtl: positiveInteger(options.accessTokenTtl ?? 60, 'accessTokenTtl'),
    tokenDelayMs: nonNegativeNumber(options.tokenDelayMs ?? 0, 'tokenDelayMs'),
  };
  const counters = {
    token_requests: { authorization_code: 0, refresh_token: 0 },
    refresh_failures: 0,
    api_calls: 0,
    api_unauthorized: 0,
  };
  const store = new Store();
  const clients = new Map();

  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://${HOST}:${server.address().port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test', alg: 'RS256', use: 'sig' };

  // Some vendors send `prompt=select_account` (alone or with `consent`); oidc-provider refuses
  // prompt values it has no policy for, so it gets one, answered by the same form.
  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }));

  const provider = new Provider(url, {
    adapter: (model) => new TestAdapter(model, store, clients),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // A login that is an e-mail address is also the account's verified address, for the
    // dashboard's OpenID Connect sign-in of operators.
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => (sub.includes('@') ? { sub, email: sub, email_verified: true } : { sub }),
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    responseTypes: ['code'],
    // Every vendor in the catalog requires PKCE; oidc-provider only implements S256.
    pkce: { required: () => true },
    // Vendors hand out refresh tokens without `offline_access` and rotate them on every use;
    // reuse of a rotated one is refused (and, per oidc-provider, revokes the grant).
    issueRefreshToken: async () => true,
    rotateRefreshToken: () => true,
    expiresWithSession: async () => false,
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris.some((uri) => new URL(uri).origin === origin),
    ttl: {
      AccessToken: () => state.accessTokenTtl,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      IdToken: 3600,
      RefreshToken: REFRESH_TOKEN_TTL,
      Interaction: 3600,
      Session: 24 * 60 * 60,
      Grant: 14 * 24 * 60 * 60,
    },
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      // Without a resource server every access token is opaque and carries the granted scopes.
      resourceIndicators: { enabled: false },
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><h1>Error</h1>${Object.entries(
        out,
      )
        .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`)
        .join('')}</body></html>`;
    },
  });
  provider.proxy = false;
  // oidc-provider only lets the scopes of its static `scopes` list (and of resource servers)
  // reach a grant, and drops the rest from the request. Vendors' scopes are arbitrary strings
  // (`employees:read`, `jobs:write`) that we cannot list up front, so every syntactically valid
  // requested scope counts as one it knows. This overrides one getter of this provider's own
  // context class; the self-test fails if an upgrade moves it.
  Object.defineProperty(provider.OIDCContext.prototype, 'requestParamOIDCScopes', {
    configurable: true,
    get() {
      return this.requestParamScopes;
    },
  });

  const countTokenRequest = (ctx, failed) => {
    const grantType = ctx.oidc?.params?.grant_type ?? 'unknown';
    counters.token_requests[grantType] = (counters.token_requests[grantType] ?? 0) + 1;
    if (failed && grantType === 'refresh_token') counters.refresh_failures += 1;
  };
  provider.on('grant.success', (ctx) => countTokenRequest(ctx, false));
  provider.on('grant.error', (ctx, error) => {
    countTokenRequest(ctx, true);
    debug('token endpoint error:', error.error, error.error_description, error.error_detail ?? '');
  });
  provider.on('server_error', (_ctx, error) => console.error('[oauth-provider] server_error', error));

  const addClient = async (input) => {
    const metadata = clientMetadata(input);
    await provider.Client.validate(metadata);
    clients.set(metadata.client_id, metadata);
    return { ...metadata, client_secret: undefined };
  };

  const revokeAll = async () => {
    let revoked = 0;
    for (const key of store.keys()) {
      const model = key.slice(0, key.indexOf(':'));
      if (model === 'Grant') revoked += 1;
      if (model === 'Grant' || model === 'grant' || GRANTABLE.has(model)) store.delete(key);
    }
    return revoked;
  };

  const configure = (changes = {}) => {
    if (changes.token_delay_ms !== undefined) state.tokenDelayMs = nonNegativeNumber(changes.token_delay_ms, 'token_delay_ms');
    if (changes.access_token_ttl !== undefined) {
      state.accessTokenTtl = positiveInteger(changes.access_token_ttl, 'access_token_ttl');
    }
    return { token_delay_ms: state.tokenDelayMs, access_token_ttl: state.accessTokenTtl };
  };

  for (const client of options.clients ?? []) await addClient(client);

  const interaction = async (req, res, uid) => {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'interaction uid does not match the cookie' });
      return;
    }
    const { params } = details;
    if (req.method === 'GET') {
      sendHtml(res, 200, loginPage({ uid, clientId: params.client_id, scope: params.scope }));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return;
    }
    const form = new URLSearchParams(await readBody(req));
    if (form.get('decision') === 'deny') {
      const result = { error: 'access_denied', error_description: 'End-User denied the request' };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      return;
    }
    const login = (form.get('login') ?? '').trim();
    if (form.get('decision') !== 'allow' || !login || form.get('password') !== PASSWORD) {
      const error = form.get('decision') !== 'allow' ? 'Choose Allow or Deny.' : 'Wrong login or password.';
      sendHtml(res, 400, loginPage({ uid, clientId: params.client_id, scope: params.scope, error, login }));
      return;
    }
    // Login and consent in one step: every requested scope is granted, so the code is issued
    // right after this submission, whichever prompt oidc-provider stopped at.
    let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    if (!grant || grant.accountId !== login) {
      grant = new provider.Grant({ accountId: login, clientId: params.client_id });
    }
    if (params.scope) grant.addOIDCScope(params.scope);
    const promptDetails = details.prompt?.details ?? {};
    if (promptDetails.missingOIDCClaims) grant.addOIDCClaims(promptDetails.missingOIDCClaims);
    for (const [indicator, resourceScopes] of Object.entries(promptDetails.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, resourceScopes.join(' '));
    }
    const grantId = await grant.save();
    const result = { select_account: {}, login: { accountId: login }, consent: { grantId } };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  };

  const api = async (req, res, requestUrl) => {
    counters.api_calls += 1;
    const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    const token = match ? await provider.AccessToken.find(match[1]) : undefined;
    // A revoked grant takes its tokens along; a token whose grant is gone is dead too.
    const grant = token?.grantId ? await provider.Grant.find(token.grantId) : undefined;
    if (!token || !grant) {
      counters.api_unauthorized += 1;
      sendJson(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
      return;
    }
    const text = await readBody(req);
    let body;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    sendJson(res, 200, {
      ok: true,
      method: req.method,
      path: requestUrl.pathname.slice('/api'.length) || '/',
      sub: token.accountId,
      scope: token.scope ?? '',
      query: Object.fromEntries(requestUrl.searchParams),
      ...(body === undefined ? {} : { body }),
    });
  };

  const control = async (req, res, path) => {
    const route = `${req.method} ${path}`;
    const json = async () => {
      const text = await readBody(req);
      return text ? JSON.parse(text) : {};
    };
    try {
      switch (route) {
        case 'POST /test/clients':
          sendJson(res, 201, await addClient(await json()));
          return;
        case 'GET /test/stats':
          sendJson(res, 200, structuredClone(counters));
          return;
        case 'POST /test/revoke':
          sendJson(res, 200, { revoked_grants: await revokeAll() });
          return;
        case 'GET /test/config':
          sendJson(res, 200, configure());
          return;
        case 'POST /test/config':
          sendJson(res, 200, configure(await json()));
          return;
        default:
          sendJson(res, 404, { error: 'not_found' });
      }
    } catch (error) {
      sendJson(res, 400, { error: 'invalid_request', error_description: error.error_description ?? error.message });
    }
  };

  // A vendor's database answers two refreshes with the same token one after the other: the
  // first rotates it, the second is a reuse. Interleaved in one process, oidc-provider would let
  // both fail, so token requests run one at a time (after their delay, which they wait out in
  // parallel so that concurrent refreshes from Plugboard really overlap).
  let tokenQueue = Promise.resolve();
  const serializeTokenRequest = (handle, res) => {
    tokenQueue = tokenQueue.then(
      () =>
        new Promise((finished) => {
          res.once('close', finished);
          handle();
        }),
    );
    return tokenQueue;
  };

  const providerCallback = provider.callback();
  server.on('request', async (req, res) => {
    const requestUrl = new URL(req.url, url);
    const { pathname } = requestUrl;
    try {
      const interactionMatch = /^\/interaction\/([^/]+)$/.exec(pathname);
      if (interactionMatch) {
        await interaction(req, res, interactionMatch[1]);
      } else if (pathname === '/api' || pathname.startsWith('/api/')) {
        await api(req, res, requestUrl);
      } else if (pathname.startsWith('/test/')) {
        await control(req, res, pathname);
      } else {
        if (pathname === '/token') {
          if (state.tokenDelayMs > 0) await sleep(state.tokenDelayMs);
          await serializeTokenRequest(() => providerCallback(req, res), res);
        } else {
          providerCallback(req, res);
        }
      }
    } catch (error) {
      debug('request failed:', req.method, pathname, error.message);
      if (!res.headersSent) {
        // SessionNotFound and friends: the interaction cookie is missing or the interaction expired.
        const status = error.statusCode ?? 500;
        sendJson(res, status, { error: error.error ?? 'server_error', error_description: error.error_description ?? error.message });
      } else {
        res.destroy();
      }
    }
  });

  return {
    issuer: url,
    url,
    authorizationEndpoint: `${url}/auth`,
    tokenEndpoint: `${url}/token`,
    revocationEndpoint: `${url}/token/revocation`,
    apiBase: `${url}/api`,
    controlUrl: `${url}/test`,
    provider,
    stats: () => structuredClone(counters),
    addClient,
    revokeAll,
    configure,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function parseArgs(argv) {
  const names = { '--port': 'port', '--access-token-ttl': 'accessTokenTtl', '--token-delay-ms': 'tokenDelayMs' };
  const options = {};
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--ignore-stdin') {
      options.ignoreStdin = true;
      continue;
    }
    const name = names[flag];
    const value = inline ?? argv[++i];
    if (!name || value === undefined) {
      console.error('usage: provider.mjs [--port N] [--access-token-ttl S] [--token-delay-ms MS] [--ignore-stdin]');
      process.exit(2);
    }
    options[name] = nonNegativeNumber(value, flag);
  }
  return options;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { ignoreStdin, ...options } = parseArgs(process.argv.slice(2));
  const running = await startProvider(options);
  process.stdout.write(
    `${JSON.stringify({
      issuer: running.issuer,
      url: running.url,
      authorization_endpoint: running.authorizationEndpoint,
      token_endpoint: running.tokenEndpoint,
      api_base: running.apiBase,
      control: running.controlUrl,
    })}\n`,
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await running.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The spawning test keeps our stdin open; when it drops the pipe (or dies), we stop too.
  if (!ignoreStdin) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
}
