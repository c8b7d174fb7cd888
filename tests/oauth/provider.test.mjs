// Self-test of the test authorization server: drives it over plain HTTP with a cookie jar, the
// way the Rust tests (reqwest) do, so a broken oidc-provider upgrade or configuration shows up
// here rather than as a confusing failure in Plugboard's OAuth tests.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { PASSWORD, startProvider } from './provider.mjs';

const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';

/** The smallest cookie jar that honours Path and expiry, like reqwest's. */
class CookieJar {
  #cookies = new Map();

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      let path = '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key, attributeValue = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = attributeValue;
        if (key.toLowerCase() === 'expires' && Date.parse(attributeValue) <= Date.now()) expired = true;
        if (key.toLowerCase() === 'max-age' && Number(attributeValue) <= 0) expired = true;
      }
      const key = `${name};${path}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter(({ path }) => pathname === path || pathname.startsWith(path.endsWith('/') ? path : `${path}/`))
      .map(({ name, value }) => `${name}=${value}`)
      .join('; ');
  }

  async fetch(url, init = {}) {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, cookie: this.header(url) },
    });
    this.store(response);
    return response;
  }
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/**
 * The sequence documented in README.md: authorize → 303 to the interaction page → submit the
 * form → 303 back to the authorization endpoint → 303 to the client's redirect_uri.
 */
async function authorize(server, client, { decision = 'allow', password = PASSWORD, scope, extra = {} } = {}) {
  const jar = new CookieJar();
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('hex');
  const url = new URL(server.authorizationEndpoint);
  const params = {
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: scope ?? 'employees:read offline_access',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);

  let response = await jar.fetch(url);
  assert.equal(response.status, 303, await response.clone().text());
  const interactionUrl = new URL(response.headers.get('location'), server.url);
  assert.match(interactionUrl.pathname, /^\/interaction\/[\w-]+$/);

  response = await jar.fetch(interactionUrl);
  assert.equal(response.status, 200);
  const page = await response.text();
  assert.match(page, /<input[^>]+name="login"/);
  assert.match(page, /<input[^>]+name="password"[^>]+type="password"/);
  assert.match(page, /<button[^>]+name="decision" value="allow">Allow<\/button>/);
  assert.match(page, /<button[^>]+name="decision" value="deny">Deny<\/button>/);

  const submit = (fields) =>
    jar.fetch(interactionUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  if (password !== PASSWORD) {
    response = await submit({ login: 'alice', password, decision: 'allow' });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /Wrong login or password/);
    password = PASSWORD;
  }
  response = await submit({ login: 'alice', password, decision });
  assert.equal(response.status, 303);
  const resumeUrl = new URL(response.headers.get('location'), server.url);
  assert.equal(resumeUrl.origin, server.url);

  response = await jar.fetch(resumeUrl);
  assert.equal(response.status, 303);
  const callback = new URL(response.headers.get('location'));
  assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  assert.equal(callback.searchParams.get('state'), state);
  assert.equal(callback.searchParams.get('iss'), server.issuer);
  return { callback, verifier };
}

async function tokenRequest(server, client, fields) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams(fields);
  if (client.token_endpoint_auth_method === 'client_secret_post') {
    body.set('client_id', client.client_id);
    body.set('client_secret', client.client_secret);
  } else {
    const credentials = `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const response = await fetch(server.tokenEndpoint, { method: 'POST', headers, body });
  return { status: response.status, body: await response.json() };
}

const exchange = (server, client, code, verifier) =>
  tokenRequest(server, client, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });

const refresh = (server, client, refreshToken) =>
  tokenRequest(server, client, { grant_type: 'refresh_token', refresh_token: refreshToken });

async function callApi(server, token, path = '/v1/me?limit=5') {
  const response = await fetch(`${server.apiBase}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status, body: await response.json() };
}

const postJson = (url, body) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('test authorization server', () => {
  let server;
  const basic = {
    client_id: 'plugboard-basic',
    client_secret: 'basic secret/with+specials',
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: 'client_secret_basic',
  };
  const post = {
    client_id: 'plugboard-post',
    client_secret: 'post-secret',
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: 'client_secret_post',
  };

  before(async () => {
    server = await startProvider();
    await server.addClient(basic);
    const response = await postJson(`${server.url}/test/clients`, post);
    assert.equal(response.status, 201);
  });
  after(() => server.close());

  for (const client of [basic, post]) {
    it(`runs the code flow with PKCE, refresh rotation and revocation (${client.token_endpoint_auth_method})`, async () => {
      const before = server.stats();
      // Vendors' extra parameters are ignored; offline_access survives because of prompt=consent.
      const request = {
        scope: 'openid offline_access employees:read',
        extra: { audience: 'https://api.vendor.test', access_type: 'offline', prompt: 'consent select_account' },
      };
      const { callback } = await authorize(server, client, request);
      const wrong = await exchange(server, client, callback.searchParams.get('code'), pkce().verifier);
      assert.equal(wrong.status, 400, 'the PKCE verifier is checked');
      assert.equal(wrong.body.error, 'invalid_grant');

      const { callback: again, verifier } = await authorize(server, client, request);
      const tokens = await exchange(server, client, again.searchParams.get('code'), verifier);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(tokens.body.token_type, 'Bearer');
      assert.equal(tokens.body.expires_in, 60);
      assert.ok(tokens.body.access_token);
      assert.ok(tokens.body.refresh_token);
      assert.deepEqual(tokens.body.scope.split(' ').sort(), ['employees:read', 'offline_access', 'openid']);

      const me = await callApi(server, tokens.body.access_token);
      assert.equal(me.status, 200);
      assert.deepEqual(me.body, {
        ok: true,
        method: 'GET',
        path: '/v1/me',
        sub: 'alice',
        scope: tokens.body.scope,
        query: { limit: '5' },
      });
      const anonymous = await callApi(server, undefined);
      assert.equal(anonymous.status, 401);
      assert.deepEqual(anonymous.body, { error: 'invalid_token' });
      assert.equal((await callApi(server, 'not-a-token')).status, 401);

      const first = await refresh(server, client, tokens.body.refresh_token);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.notEqual(first.body.refresh_token, tokens.body.refresh_token, 'refresh tokens rotate');
      assert.equal((await callApi(server, first.body.access_token)).status, 200);
      const second = await refresh(server, client, first.body.refresh_token);
      assert.equal(second.status, 200, JSON.stringify(second.body));
      const reused = await refresh(server, client, tokens.body.refresh_token);
      assert.equal(reused.status, 400);
      assert.equal(reused.body.error, 'invalid_grant');

      const stats = server.stats();
      assert.equal(stats.token_requests.authorization_code - before.token_requests.authorization_code, 2);
      assert.equal(stats.token_requests.refresh_token - before.token_requests.refresh_token, 3);
      assert.equal(stats.refresh_failures - before.refresh_failures, 1);
      assert.equal(stats.api_calls - before.api_calls, 4);
      assert.equal(stats.api_unauthorized - before.api_unauthorized, 2);
    });
  }

  it('revoking every grant kills refresh and access tokens', async () => {
    const { callback, verifier } = await authorize(server, basic);
    const tokens = await exchange(server, basic, callback.searchParams.get('code'), verifier);
    assert.equal(tokens.status, 200);
    // Without prompt=consent oidc-provider drops offline_access (an OpenID Connect rule) but
    // still issues a refresh token.
    assert.equal(tokens.body.scope, 'employees:read');
    assert.ok(tokens.body.refresh_token);
    assert.equal((await callApi(server, tokens.body.access_token)).status, 200);

    const response = await fetch(`${server.url}/test/revoke`, { method: 'POST' });
    assert.equal(response.status, 200);
    assert.ok((await response.json()).revoked_grants >= 1);

    assert.equal((await callApi(server, tokens.body.access_token)).status, 401);
    const refused = await refresh(server, basic, tokens.body.refresh_token);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
  });

  it('answers access_denied when the user denies, and re-renders the form on a wrong password', async () => {
    const { callback } = await authorize(server, post, { decision: 'deny', password: 'wrong' });
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('code'), null);
  });

  it('requires PKCE S256', async () => {
    const url = new URL(server.authorizationEndpoint);
    url.search = new URLSearchParams({
      client_id: basic.client_id,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'employees:read',
      state: 'x',
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    assert.equal(response.status, 303);
    const location = new URL(response.headers.get('location'));
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    url.searchParams.set('code_challenge', pkce().challenge);
    url.searchParams.set('code_challenge_method', 'plain');
    const plain = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location'));
    assert.equal(plain.searchParams.get('error'), 'invalid_request');
  });

  it('changes the access-token TTL and token delay at runtime', async () => {
    let response = await postJson(`${server.url}/test/config`, { access_token_ttl: 1, token_delay_ms: 300 });
    assert.deepEqual(await response.json(), { access_token_ttl: 1, token_delay_ms: 300 });
    try {
      const { callback, verifier } = await authorize(server, basic);
      const started = Date.now();
      const tokens = await exchange(server, basic, callback.searchParams.get('code'), verifier);
      assert.ok(Date.now() - started >= 300);
      assert.equal(tokens.body.expires_in, 1);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      assert.equal((await callApi(server, tokens.body.access_token)).status, 401, 'expired access token');
    } finally {
      response = await postJson(`${server.url}/test/config`, { access_token_ttl: 60, token_delay_ms: 0 });
      assert.equal(response.status, 200);
    }
  });

  it('answers overlapping refreshes one at a time: the second is a reuse', async () => {
    const { callback, verifier } = await authorize(server, post);
    const tokens = await exchange(server, post, callback.searchParams.get('code'), verifier);
    assert.equal(tokens.status, 200);
    await postJson(`${server.url}/test/config`, { token_delay_ms: 500 });
    try {
      const started = Date.now();
      const answers = await Promise.all([
        refresh(server, post, tokens.body.refresh_token),
        refresh(server, post, tokens.body.refresh_token),
      ]);
      assert.ok(Date.now() - started < 950, 'the delays overlap');
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400]);
      assert.equal(answers.find((a) => a.status === 400).body.error, 'invalid_grant');
      // Reuse detection revokes the whole grant, so even the winner's new refresh token is dead.
      const winner = answers.find((a) => a.status === 200).body;
      assert.equal((await refresh(server, post, winner.refresh_token)).body.error, 'invalid_grant');
    } finally {
      await postJson(`${server.url}/test/config`, { token_delay_ms: 0 });
    }
  });

  it('rejects bad client registrations', async () => {
    const response = await postJson(`${server.url}/test/clients`, { client_id: 'x', client_secret: 'y', redirect_uris: [] });
    assert.equal(response.status, 400);
  });
});

describe('command line', () => {
  it('prints one JSON line and stops when stdin closes', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('provider.mjs', import.meta.url)), '--port', '0', '--access-token-ttl', '30'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    const [line] = await once(lines, 'line');
    const info = JSON.parse(line);
    assert.deepEqual(Object.keys(info).sort(), ['api_base', 'authorization_endpoint', 'control', 'issuer', 'token_endpoint', 'url']);
    assert.match(info.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(info.token_endpoint, `${info.issuer}/token`);
    const discovery = await (await fetch(`${info.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.issuer, info.issuer);
    assert.equal(discovery.authorization_response_iss_parameter_supported, true);
    const stats = await (await fetch(`${info.control}/stats`)).json();
    assert.deepEqual(stats, { token_requests: { authorization_code: 0, refresh_token: 0 }, refresh_failures: 0, api_calls: 0, api_unauthorized: 0 });

    const extra = [];
    lines.on('line', (l) => extra.push(l));
    child.stdin.end();
    const [exitCode] = await once(child, 'exit');
    assert.equal(exitCode, 0);
    assert.deepEqual(extra, [], 'nothing else on stdout');
  });
});
