// Shared helpers of the browser tests: the Plugboard server under test, its API, a host page on
// another origin that embeds the flow through Kombo's real front-end SDK, headless Chromium, and
// small steps of the flow. Everything listens on, and talks to, 127.0.0.1 only.

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { hkdfSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';

import { chromium } from 'playwright-core';
import { decrypt, encrypt } from 'paseto-ts/v4';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const REPO = path.resolve(here, '..', '..');
export const BINARY = path.join(REPO, 'target', 'debug', 'plugboard');
export const CHROMIUM = '/usr/bin/chromium';

/** The end user every link is for. */
export const END_USER = {
  end_user_email: 'admin@acme.example',
  end_user_organization_name: 'Acme, Inc.',
  end_user_origin_id: '36123',
};

// ---------------------------------------------------------------------------------------------
// Texts: the flow's messages, read from the locale files the binary is built from, so the tests
// check that the page speaks the link's language without copying every sentence.

const locales = new Map();

/** The message `id` of `lang` with `{ $name }` filled from `args`. */
export function t(lang, id, args = {}) {
  if (!locales.has(lang)) {
    const file = path.join(REPO, 'crates', 'server', 'locales', lang, 'flow.ftl');
    const messages = new Map();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = /^([a-zA-Z][\w-]*) = (.*)$/.exec(line);
      if (match) messages.set(match[1], match[2]);
    }
    locales.set(lang, messages);
  }
  const text = locales.get(lang).get(id);
  assert.ok(text !== undefined, `no message ${id} in ${lang}`);
  return text.replace(/\{ \$(\w+) \}/g, (_, name) => {
    assert.ok(name in args, `message ${id} needs ${name}`);
    return args[name];
  });
}

// ---------------------------------------------------------------------------------------------
// Ports and small servers.

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts `handler` on a free port of 127.0.0.1; resolves to { server, port, origin, close }. */
export async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// The server under test.

/**
 * Starts `plugboard serve` on a free port with a fresh data dir, BambooHR pointed at
 * `bamboohrBase` (a fake vendor) when given, and a development API key.
 *
 * The base URL goes in PLUGBOARD_TOOL_BASE_URLS or, with `configFile`, in a `--config` file's
 * `[tool_base_urls]` table: both documented forms are exercised. `env` adds PLUGBOARD_*
 * settings (e.g. PLUGBOARD_FRAME_ANCESTORS_PRODUCTION).
 */
export async function startPlugboard({ bamboohrBase, configFile = false, demo = false, env: settings = {} } = {}) {
  if (!existsSync(BINARY)) {
    throw new Error(
      `The Plugboard binary is missing: ${BINARY}\nBuild it first: cd ${REPO} && cargo build -p plugboard`,
    );
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'plugboard-browser-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    PLUGBOARD_DATA_DIR: dataDir,
    PLUGBOARD_LISTEN: `127.0.0.1:${port}`,
    PLUGBOARD_PUBLIC_URL: url,
    // PLUGBOARD_BROWSER_TESTS_LOG=info shows more of the server's log in failure messages.
    PLUGBOARD_LOG: process.env.PLUGBOARD_BROWSER_TESTS_LOG || 'warn',
  };
  for (const name of Object.keys(env)) {
    // Nothing from the caller's environment may point the server elsewhere.
    if (name.startsWith('PLUGBOARD_') && !['PLUGBOARD_DATA_DIR', 'PLUGBOARD_LISTEN', 'PLUGBOARD_PUBLIC_URL', 'PLUGBOARD_LOG'].includes(name)) {
      delete env[name];
    }
  }
  Object.assign(env, settings);
  // The tests' webhook receivers (the Express example's) listen on loopback.
  env.PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK = 'true';
  const args = [];
  if (bamboohrBase && configFile) {
    const file = path.join(dataDir, 'plugboard.toml');
    await writeFile(file, `[tool_base_urls]\nbamboohr = ${JSON.stringify(bamboohrBase)}\n`);
    args.push('--config', file);
  } else if (bamboohrBase) {
    env.PLUGBOARD_TOOL_BASE_URLS = `bamboohr=${bamboohrBase}`;
  }

  const { stdout } = await promisify(execFile)(
    BINARY,
    [...args, 'api-keys', 'create', '--environment', 'development', '--name', 'tests'],
    { env },
  );
  const key = stdout.trim();
  assert.match(key, /^\S+$/, `api-keys create printed ${JSON.stringify(stdout)}`);

  const serveArgs = demo ? ['serve', '--demo'] : ['serve'];
  const child = spawn(BINARY, [...args, ...serveArgs], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log = (log + chunk).slice(-20_000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await Promise.race([
      fetch(`${url}/readyz`).then((r) => r.status, () => 0),
      exited.then(({ code, signal }) => {
        throw new Error(`plugboard serve exited (${code ?? signal}) before it was ready:\n${log}`);
      }),
    ]);
    if (status === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`plugboard serve was not ready within 30 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  async function api(method, apiPath, body, apiKey = key) {
    const response = await fetch(`${url}/v1${apiPath}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    return { status: response.status, json };
  }

  return {
    url,
    port,
    key,
    api,
    /** The server's environment (data dir, address), for running the CLI against it. */
    env,
    log: () => log,
    /** A link for END_USER with `options` (integration_tool, language, link_type, …). */
    async createLink(options = {}) {
      const { status, json } = await api('POST', '/connect/create-link', { ...END_USER, ...options });
      assert.equal(status, 200, JSON.stringify(json));
      assert.match(json.data.link, /^http:\/\/127\.0\.0\.1:\d+\/connect\?token=/);
      return json.data.link;
    },
    /** Redeems an activation token; resolves to the integration. */
    async redeem(token) {
      const { status, json } = await api('GET', `/connect/integration-by-token/${encodeURIComponent(token)}`);
      assert.equal(status, 200, JSON.stringify(json));
      return json.data;
    },
    /**
     * `link` as it would be once its time is up: the link is opened with the server's
     * link-sealing key (derived from the generated master key in the data dir, as `vault.rs`
     * derives it), its expiry (`x`) moved into the past, and it is sealed again (PASETO
     * v4.local, same footer and implicit assertion), so only the expiry differs from a genuine
     * link.
     */
    expire(link) {
      const master = Buffer.from(readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim(), 'base64');
      const key = `k4.local.${Buffer.from(hkdfSync('sha256', master, 'plugboard', 'link-seal v1', 32)).toString('base64url')}`;
      const url = new URL(link);
      const token = url.searchParams.get('token');
      const footer = Buffer.from(token.split('.')[3], 'base64url').toString('utf8');
      const options = { assertion: 'plugboard link v1', validatePayload: false };
      const { payload } = decrypt(key, token, options);
      payload.x = Math.floor(Date.now() / 1000) - 3600;
      const expired = encrypt(key, payload, { ...options, footer, addIat: false, addExp: false });
      assert.equal(expired.split('.')[3], token.split('.')[3], 'the same footer (key id)');
      url.searchParams.set('token', expired);
      return url.toString();
    },
    /** A relink link of integration `id`. */
    async relink(id, options = {}) {
      const { status, json } = await api('POST', `/integrations/${encodeURIComponent(id)}/relink`, options);
      assert.equal(status, 200, JSON.stringify(json));
      return json.data.link;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The host application: a page on another origin that opens links with Kombo's SDK.

const SDK_BUNDLE = (() => {
  // The package's UMD build (package.json "umd"), which defines the global KomboConnect.
  const manifest = require.resolve('@kombo-api/connect/package.json');
  const { umd } = JSON.parse(readFileSync(manifest, 'utf8'));
  return readFileSync(path.join(path.dirname(manifest), umd), 'utf8');
})();

const HOST_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Acme HR app</title><script src="/kombo-connect.js"></script></head>
<body>
<h1>Acme HR app</h1>
<button type="button" id="connect">Connect your HR software</button>
<script>
  // Opens a link the way an operator's front end does and keeps the outcome for the test.
  window.openConnect = function (link) {
    window.connectOutcome = KomboConnect.showKomboConnect(link).then(
      function (token) { return { resolved: true, token: token }; },
      function (error) {
        return {
          resolved: false,
          name: error.name,
          message: error.message,
          cancelled: error instanceof KomboConnect.KomboConnectCancelledError,
        };
      });
  };
</script>
</body>
</html>`;

/** Starts the host application's server: `/` is the page, `/kombo-connect.js` the SDK. */
export function startHost() {
  return listen((request, response) => {
    const { pathname } = new URL(request.url, 'http://127.0.0.1');
    if (pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(HOST_PAGE);
    } else if (pathname === '/kombo-connect.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      response.end(SDK_BUNDLE);
    } else {
      response.writeHead(404).end();
    }
  });
}

/**
 * Opens the host page in `page` and `link` through the SDK. Resolves to the flow's frame (a
 * playwright Frame that follows the iframe's navigations) and `outcome()`, the SDK promise's
 * settlement: { resolved, token } or { resolved: false, name, message, cancelled }.
 */
export async function openInSdk(page, host, link) {
  await page.goto(`${host.origin}/`);
  await page.evaluate((url) => window.openConnect(url), link);
  const iframe = page.locator('iframe');
  await iframe.waitFor();
  const src = await iframe.getAttribute('src');
  assert.ok(src.includes('sdkv=1.3.0'), `the SDK adds sdkv: ${src}`);
  const frame = await (await iframe.elementHandle()).contentFrame();
  assert.ok(frame, 'the iframe has a frame');
  return {
    frame,
    outcome: () => page.evaluate(() => window.connectOutcome),
    iframeCount: () => page.locator('iframe').count(),
  };
}

// ---------------------------------------------------------------------------------------------
// The browser.

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/**
 * A fresh context whose every request is recorded; `offsite()` lists the requests that went
 * anywhere but 127.0.0.1.
 */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, ...options });
  context.setDefaultTimeout(15_000);
  const requests = [];
  context.on('request', (request) => requests.push(request.url()));
  const page = await context.newPage();
  return {
    context,
    page,
    requests,
    offsite: () =>
      requests.filter((url) => {
        const { protocol, hostname } = new URL(url);
        if (protocol === 'data:' || protocol === 'about:' || protocol === 'blob:') return false;
        return hostname !== '127.0.0.1';
      }),
    close: () => context.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Steps of the flow. `scope` is a playwright Page (a top-level flow) or Frame (the SDK's iframe).

/** The picker's heading for END_USER in `lang`. */
export function pickerTitle(lang = 'en') {
  return t(lang, 'picker-title', {
    category: t(lang, 'category-HRIS'),
    organization: END_USER.end_user_organization_name,
  });
}

/** The link with one character of its sealed token's body (`v4.local.<body>.<footer>`) changed. */
export function tamper(link) {
  const url = new URL(link);
  const token = url.searchParams.get('token');
  const parts = token.split('.');
  assert.equal(parts.length, 4, 'the link token is sealed (PASETO v4.local)');
  const signature = parts[2];
  // Change a character in the middle: the last one may carry only padding bits.
  const i = Math.floor(signature.length / 2);
  const replacement = signature[i] === 'A' ? 'B' : 'A';
  parts[2] = signature.slice(0, i) + replacement + signature.slice(i + 1);
  url.searchParams.set('token', parts.join('.'));
  return url.toString();
}

/** Waits until the page's heading is `text`. */
export async function expectHeading(scope, text) {
  const heading = scope.locator('h1#heading');
  try {
    await scope.getByRole('heading', { level: 1, name: text, exact: true }).waitFor();
  } catch (error) {
    const actual = await heading.textContent().catch(() => '(none)');
    throw new Error(`expected the heading ${JSON.stringify(text)}, found ${JSON.stringify(actual)}`, {
      cause: error,
    });
  }
}

/** Waits until keyboard focus is on the page's heading (the script moves it there). */
export async function expectFocusOnHeading(scope) {
  await scope.waitForFunction(() => document.activeElement && document.activeElement.id === 'heading');
}

/** The element with keyboard focus: id, tag, text, computed outline and :focus-visible. */
export function focused(scope) {
  return scope.evaluate(() => {
    const element = document.activeElement;
    const style = element ? getComputedStyle(element) : null;
    return {
      id: element?.id ?? null,
      tag: element?.tagName.toLowerCase() ?? null,
      text: element?.textContent.trim() ?? null,
      outlineStyle: style?.outlineStyle ?? null,
      outlineWidth: style?.outlineWidth ?? null,
      focusVisible: element ? element.matches(':focus-visible') : false,
    };
  });
}

/** The step's main button: "Continue" on consent and guide, "Connect" on credentials. */
export function primary(scope) {
  return scope.locator('main .button').first();
}

/**
 * Walks from the current page to the credentials form: the picker (unless `pick` is false,
 * for links that name their tool), where it chooses `tool`, then consent and guide. Checks each
 * heading in `lang`.
 */
export async function toCredentials(scope, { lang = 'en', tool = 'Sandbox', pick = true } = {}) {
  const product = t(lang, 'product-generic');
  if (pick) {
    await expectHeading(scope, pickerTitle(lang));
    await scope.getByRole('link', { name: tool, exact: true }).click();
  }
  await expectHeading(scope, t(lang, 'consent-title', { product }));
  await primary(scope).click();
  await expectHeading(scope, t(lang, 'guide-title', { tool }));
  await primary(scope).click();
  await expectHeading(scope, t(lang, 'credentials-title', { tool }));
}

/** Fills the sandbox's API key and submits. */
export async function submitSandboxKey(scope, value) {
  await scope.locator('#f-api_key').fill(value);
  await primary(scope).click();
}

/** Waits for the success page. */
export async function expectSuccess(scope, { lang = 'en', tool = 'Sandbox' } = {}) {
  await expectHeading(scope, t(lang, 'success-title', { tool }));
}

// ---------------------------------------------------------------------------------------------
// Accessibility.

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The axe-core tags every audit runs: WCAG 2.0 A and AA, 2.1 AA, 2.2 AA. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'];

/**
 * Runs axe on the document of `scope` (a Page or Frame) and fails on any violation, as
 * `a11y.test.mjs` does. axe is injected with a <script> tag, which Plugboard's CSPs forbid: the
 * context must be made with `bypassCSP`. Callers first wait for the state to check.
 */
export async function audit(scope, label) {
  if (!(await scope.evaluate(() => typeof window.axe === 'object'))) {
    await scope.addScriptTag({ content: AXE });
  }
  const { violations, passes } = await scope.evaluate(async (tags) => {
    const results = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return {
      passes: results.passes.length,
      violations: results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
      })),
    };
  }, AXE_TAGS);
  assert.ok(passes > 5, `${label}: axe checked too little (${passes} rules passed)`);
  assert.deepEqual(violations, [], `${label}:\n${violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.join('\n  ')}`).join('\n')}`);
}
