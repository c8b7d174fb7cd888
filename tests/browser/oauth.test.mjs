// Signing in to an OAuth tool (Gusto) in Chromium, against a real authorization server
// (oidc-provider, `tests/oauth/provider.mjs`) standing in for Gusto. Inside the SDK's iframe the
// consent step's button opens the vendor in a popup, which tells the flow how it ended and
// closes; top-level (a magic link) the same button takes the tab there and back. Denied consent,
// a blocked popup and a popup closed early each end on a step with "Try again".

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';

import { PASSWORD, startProvider } from '../oauth/provider.mjs';
import {
  END_USER,
  expectFocusOnHeading,
  expectHeading,
  expectSuccess,
  focused,
  launchBrowser,
  listen,
  newContext,
  openInSdk,
  pickerTitle,
  startHost,
  startPlugboard,
  t,
} from './helpers.mjs';

const TOOL = 'Gusto';
const CLIENT_ID = 'plugboard-browser-tests';
const CLIENT_SECRET = 'browser-tests-client-secret';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

describe('OAuth sign-in (Gusto against oidc-provider)', { timeout: 150_000 }, () => {
  let vendor;
  let plugboard;
  let host;
  let sdkHost;
  let receiver;
  let webhookId;
  let browser;

  before(async () => {
    vendor = await startProvider();
    [plugboard, host, receiver, browser] = await Promise.all([
      startPlugboard({
        env: {
          PLUGBOARD_TOOL_BASE_URLS: [
            `gusto=${vendor.apiBase}`,
            `gusto/authorize=${vendor.authorizationEndpoint}`,
            `gusto/token=${vendor.tokenEndpoint}`,
          ].join(','),
        },
      }),
      startHost(),
      // Receives every event; the tests read them back through the delivery log.
      listen((request, response) => {
        request.resume();
        request.on('end', () => response.writeHead(204).end());
      }),
      launchBrowser(),
    ]);
    await vendor.addClient({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [`${plugboard.url}/connect/oauth/callback`],
      token_endpoint_auth_method: 'client_secret_post',
    });
    const app = await plugboard.api('PUT', '/oauth-apps/gusto', {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      scopes: ['openid', 'offline_access'],
    });
    assert.equal(app.status, 200, JSON.stringify(app.json));
    const webhook = await plugboard.api('POST', '/webhooks', { url: `${receiver.origin}/events` });
    assert.equal(webhook.status, 200, JSON.stringify(webhook.json));
    webhookId = webhook.json.data.id;
    sdkHost = await startPlugboardSdkHost(plugboard);
  });

  after(async () => {
    await browser?.close();
    await sdkHost?.close();
    await receiver?.close();
    await host?.close();
    await plugboard?.stop();
    await vendor?.close();
  });

  /** The events of `type` so far, newest first: { id, detail, payload }. */
  async function events(type) {
    const { status, json } = await plugboard.api(
      'GET',
      `/webhooks/${webhookId}/deliveries?event_type=${encodeURIComponent(type)}`,
    );
    assert.equal(status, 200, JSON.stringify(json));
    const found = [];
    for (const delivery of json.data.results) {
      const event = await plugboard.api('GET', `/events/${encodeURIComponent(delivery.event_id)}`);
      assert.equal(event.status, 200, JSON.stringify(event.json));
      found.push(event.json.data);
    }
    return found;
  }

  /** Redeems `token` the way Kombo's older clients do, and returns the integration. */
  async function activate(token) {
    const { status, json } = await plugboard.api('POST', '/connect/activate-integration', { token });
    assert.equal(status, 200, JSON.stringify(json));
    return json.data;
  }

  test('Kombo’s SDK: picker → consent → popup → Allow → success; token, events, passthrough', async () => {
    const { page, offsite, close } = await newContext(browser);
    try {
      const { frame, outcome } = await openInSdk(page, host, await plugboard.createLink());
      await expectHeading(frame, pickerTitle());
      const choice = frame.locator('a[data-tool=gusto]');
      assert.match(await choice.textContent(), new RegExp(t('en', 'signin-button', { tool: TOOL })));
      await choice.click();
      await expectConsent(frame);

      const popup = await openPopup(page, () => signInButton(frame).click());
      await popup.locator('input[name=login]').waitFor();
      assert.equal(new URL(popup.url()).origin, vendor.url, 'the popup is at the vendor');
      // The flow says what it waits for while the popup is open.
      await frame.getByRole('status').filter({ hasText: t('en', 'signin-waiting', { tool: TOOL }) }).waitFor();
      await atVendor(popup, 'allow');
      await popupCloses(popup);

      await expectSuccess(frame, { tool: TOOL });
      await expectFocusOnHeading(frame);
      await frame.locator('[data-done]').click();
      const result = await outcome();
      assert.equal(result.resolved, true, JSON.stringify(result));
      assert.match(result.token, /^pbat_/);
      const integration = await activate(result.token);
      assert.equal(integration.tool, 'gusto');
      assert.equal(integration.end_user_origin_id, END_USER.end_user_origin_id);

      const created = await events('integration-created');
      assert.ok(created.some((e) => e.payload.data.id === integration.id), JSON.stringify(created));

      const call = await passthrough(plugboard, integration.id);
      assert.equal(call.status, 200, JSON.stringify(call.json));
      assert.equal(call.json.data.status, 200, JSON.stringify(call.json));
      assert.equal(call.json.data.data.path, '/v1/me', JSON.stringify(call.json));
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });

  test('Plugboard’s SDK: denied, Try again, allowed; onEvent sees each step and signin-failed', async () => {
    const { page, close } = await newContext(browser);
    try {
      await page.goto(`${sdkHost.origin}/`);
      await page.evaluate((url) => window.openConnect(url), await plugboard.createLink());
      const iframe = page.locator('iframe[title=Connect]');
      await iframe.waitFor();
      const frame = await (await iframe.elementHandle()).contentFrame();
      await expectHeading(frame, pickerTitle());
      await frame.locator('a[data-tool=gusto]').click();
      await expectConsent(frame);
      const denied = await openPopup(page, () => signInButton(frame).click());
      await atVendor(denied, 'deny');
      await popupCloses(denied);
      await expectFailure(frame, 'signin-denied', 'denied');
      await frame.getByRole('link', { name: t('en', 'signin-retry'), exact: true }).click();
      await expectConsent(frame);
      const popup = await openPopup(page, () => signInButton(frame).click());
      await atVendor(popup, 'allow');
      await popupCloses(popup);
      await expectSuccess(frame, { tool: TOOL });
      await frame.locator('[data-done]').click();

      const result = await page.evaluate(() => window.connectOutcome);
      assert.equal(result.resolved, true, JSON.stringify(result));
      assert.equal((await plugboard.redeem(result.token)).tool, 'gusto');
      const events = await page.evaluate(() => window.events);
      const summary = events
        .map((e) => (e.type === 'step' ? `step:${e.step}` : e.type === 'tool-selected' ? `tool-selected:${e.tool}` : e.type))
        .filter((type) => type !== 'loaded');
      assert.deepEqual(summary, [
        'opened',
        'step:picker',
        'tool-selected:gusto',
        'step:consent',
        'step:signin-end',
        'signin-failed',
        'step:consent',
        'step:success',
        'succeeded',
      ]);
      const failed = events.find((e) => e.type === 'signin-failed');
      assert.deepEqual([failed.tool, failed.reason], ['gusto', 'denied']);
    } finally {
      await close();
    }
  });

  test('denied at the vendor: the failure step with Try again, connection-flow-failed; then allowed', async () => {
    const { page, offsite, close } = await newContext(browser);
    try {
      const before = (await events('connection-flow-failed')).length;
      const { frame, outcome } = await openInSdk(page, host, await plugboard.createLink({ integration_tool: 'gusto' }));
      await expectConsent(frame);
      const popup = await openPopup(page, () => signInButton(frame).click());
      await atVendor(popup, 'deny');
      await popupCloses(popup);

      await expectFailure(frame, 'signin-denied', 'denied');
      const failed = await events('connection-flow-failed');
      assert.equal(failed.length, before + 1, JSON.stringify(failed));
      assert.equal(failed[0].detail, 'denied');
      assert.equal(failed[0].payload.data.integration_tool, 'gusto');

      await frame.getByRole('link', { name: t('en', 'signin-retry'), exact: true }).click();
      await expectConsent(frame);
      const again = await openPopup(page, () => signInButton(frame).click());
      await atVendor(again, 'allow');
      await popupCloses(again);
      await expectSuccess(frame, { tool: TOOL });
      await frame.locator('[data-done]').click();
      const result = await outcome();
      assert.equal(result.resolved, true, JSON.stringify(result));
      assert.equal((await plugboard.redeem(result.token)).tool, 'gusto');
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });

  test('a blocked popup: the blocked step with Try again', async () => {
    const { page, context, close } = await newContext(browser);
    try {
      await blockPopups(page);
      const { frame } = await openInSdk(page, host, await plugboard.createLink({ integration_tool: 'gusto' }));
      await expectConsent(frame);
      await signInButton(frame).click();
      await expectFailure(frame, 'signin-blocked', 'blocked');
      assert.equal(context.pages().length, 1, 'no window opened');
      assert.equal((await events('connection-flow-failed'))[0].detail, 'blocked');
    } finally {
      await close();
    }
  });

  test('a popup closed before the sign-in ends: the closed step within seconds', async () => {
    const { page, close } = await newContext(browser);
    try {
      const { frame } = await openInSdk(page, host, await plugboard.createLink({ integration_tool: 'gusto' }));
      await expectConsent(frame);
      const popup = await openPopup(page, () => signInButton(frame).click());
      await popup.locator('input[name=login]').waitFor();
      const closedAt = Date.now();
      await popup.close();
      await expectFailure(frame, 'signin-closed', 'closed', { timeout: 6_000 });
      assert.ok(Date.now() - closedAt < 6_000);
      assert.equal((await events('connection-flow-failed'))[0].detail, 'closed');
    } finally {
      await close();
    }
  });

  test('a magic link top-level: the same tab goes to the vendor and back to the success page', async () => {
    const { page, context, offsite, close } = await newContext(browser);
    try {
      const link = await plugboard.createLink({ link_type: 'MAGIC_LINK' });
      await page.goto(link);
      await expectHeading(page, pickerTitle());
      await page.locator('a[data-tool=gusto]').click();
      await expectConsent(page);
      await signInButton(page).click();
      await page.waitForURL((url) => url.origin === vendor.url);
      await atVendor(page, 'allow');
      await expectSuccess(page, { tool: TOOL });
      await expectFocusOnHeading(page);
      assert.equal(context.pages().length, 1, 'no popup');
      assert.equal(new URL(page.url()).pathname, '/connect/oauth/finish');
      // A magic link has nobody to hand a token to: no Done, no token shown.
      assert.equal(await page.locator('[data-done]').count(), 0);
      assert.equal(await page.locator('[data-activation-token]').count(), 0);
      assert.doesNotMatch(await page.content(), /pbat_/);
      const { json } = await plugboard.api('GET', `/integrations?end_user_origin_id=${END_USER.end_user_origin_id}&tool=gusto`);
      assert.ok(json.data.results.length >= 1, JSON.stringify(json));
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });

  test('relink of a signed-in integration signs in again and keeps the integration', async () => {
    const { page, close } = await newContext(browser);
    try {
      const origin = 'relink-36124';
      const first = await plugboard.createLink({ integration_tool: 'gusto', end_user_origin_id: origin });
      const { frame, outcome } = await openInSdk(page, host, first);
      await expectConsent(frame);
      const popup = await openPopup(page, () => signInButton(frame).click());
      await atVendor(popup, 'allow');
      await popupCloses(popup);
      await expectSuccess(frame, { tool: TOOL });
      await frame.locator('[data-done]').click();
      const integration = await plugboard.redeem((await outcome()).token);
      const codes = (await vendor.stats()).token_requests.authorization_code;

      // The relink link names the tool; this browser still has its session at the vendor,
      // which may send it straight back without the form, as a real vendor would.
      const relink = await openInSdk(page, host, await plugboard.relink(integration.id));
      await expectConsent(relink.frame);
      const again = await openPopup(page, () => signInButton(relink.frame).click());
      await atVendor(again, 'allow', { sessionMaySkip: true });
      await popupCloses(again);
      await expectSuccess(relink.frame, { tool: TOOL });
      await relink.frame.locator('[data-done]').click();
      const result = await relink.outcome();
      assert.equal(result.resolved, true, JSON.stringify(result));
      const relinked = await plugboard.redeem(result.token);
      assert.equal(relinked.id, integration.id, 'the same integration');
      assert.equal((await vendor.stats()).token_requests.authorization_code, codes + 1, 'a new code was exchanged');

      const { json } = await plugboard.api('GET', `/integrations?end_user_origin_id=${origin}&tool=gusto`);
      assert.deepEqual(json.data.results.map((i) => i.id), [integration.id], JSON.stringify(json));
      assert.equal(json.data.results[0].status, 'ACTIVE');
      const call = await passthrough(plugboard, integration.id);
      assert.equal(call.json.data?.status, 200, JSON.stringify(call.json));
    } finally {
      await close();
    }
  });

  test('keyboard only: Tab to the sign-in button, Enter opens the popup', async () => {
    const { page, close } = await newContext(browser);
    try {
      const { frame, outcome } = await openInSdk(page, host, await plugboard.createLink({ integration_tool: 'gusto' }));
      await expectConsent(frame);
      await expectFocusOnHeading(frame);
      let now;
      for (let presses = 0; presses < 10; presses += 1) {
        await page.keyboard.press('Tab');
        now = await focused(frame);
        if (now.text === t('en', 'signin-button', { tool: TOOL })) break;
      }
      assert.equal(now.text, t('en', 'signin-button', { tool: TOOL }), `focus went to ${JSON.stringify(now)}`);
      assert.equal(now.focusVisible, true);
      assert.notEqual(now.outlineStyle, 'none');

      const popup = await openPopup(page, () => page.keyboard.press('Enter'));
      // The vendor's form, by keyboard too: Enter in the password field submits with Allow.
      await popup.locator('input[name=login]').waitFor();
      await popup.locator('input[name=login]').focus();
      await popup.keyboard.type('alice');
      await popup.keyboard.press('Tab');
      await popup.keyboard.type(PASSWORD);
      await popup.keyboard.press('Enter');
      await popupCloses(popup);
      await expectSuccess(frame, { tool: TOOL });
      await expectFocusOnHeading(frame);
      await page.keyboard.press('Tab');
      assert.equal((await focused(frame)).text, t('en', 'success-done'));
      await page.keyboard.press('Enter');
      assert.equal((await outcome()).resolved, true);
    } finally {
      await close();
    }
  });

  test('axe-core: the consent step with the sign-in button, the waiting state, the failure steps', async () => {
    // axe is injected with a <script> tag, which the flow's CSP forbids: this context alone
    // bypasses CSP.
    const { page, close } = await newContext(browser, { bypassCSP: true });
    try {
      const { frame } = await openInSdk(page, host, await plugboard.createLink({ integration_tool: 'gusto' }));
      await expectConsent(frame);
      await expectFocusOnHeading(frame);
      await audit(frame, 'consent with the sign-in button');

      const popup = await openPopup(page, () => signInButton(frame).click());
      await frame.getByRole('status').filter({ hasText: t('en', 'signin-waiting', { tool: TOOL }) }).waitFor();
      await audit(frame, 'waiting for the popup');

      await popup.close();
      await expectFailure(frame, 'signin-closed', 'closed');
      await expectFocusOnHeading(frame);
      await audit(frame, 'failure step (closed)');

      await blockPopups(page);
      await frame.getByRole('link', { name: t('en', 'signin-retry'), exact: true }).click();
      await expectConsent(frame);
      await signInButton(frame).click();
      await expectFailure(frame, 'signin-blocked', 'blocked');
      await expectFocusOnHeading(frame);
      await audit(frame, 'failure step (blocked)');
    } finally {
      await close();
    }
  });

  test('German: the consent step’s button and the failure step in the link’s language', async () => {
    const { page, close } = await newContext(browser);
    try {
      await blockPopups(page);
      const { frame } = await openInSdk(page, host, await plugboard.createLink({ language: 'de' }));
      await expectHeading(frame, pickerTitle('de'));
      const choice = frame.locator('a[data-tool=gusto]');
      assert.match(await choice.textContent(), new RegExp(t('de', 'signin-button', { tool: TOOL })));
      await choice.click();
      await expectConsent(frame, 'de');
      assert.equal(await signInButton(frame).textContent(), 'Mit Gusto anmelden');
      await signInButton(frame).click();
      await expectFailure(frame, 'signin-blocked', 'blocked', { lang: 'de' });
      assert.equal(await frame.locator('html').getAttribute('lang'), 'de');
    } finally {
      await close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** The consent step of Gusto, with its sign-in button, in `lang`. */
async function expectConsent(scope, lang = 'en') {
  await expectHeading(scope, t(lang, 'consent-title', { product: t(lang, 'product-generic') }));
  assert.equal(await signInButton(scope).textContent(), t(lang, 'signin-button', { tool: TOOL }));
}

function signInButton(scope) {
  return scope.locator('main a[data-oauth]');
}

/** Runs `click` and resolves to the popup it opened, once the popup has loaded a page. */
async function openPopup(page, click) {
  const [popup] = await Promise.all([page.waitForEvent('popup'), click()]);
  await popup.waitForLoadState('domcontentloaded');
  return popup;
}

/**
 * Signs in at the vendor's form in `scope` (the popup, or the tab of a magic link) and allows
 * or denies. With `sessionMaySkip`, the vendor may remember the browser and skip the form.
 */
async function atVendor(scope, decision, { sessionMaySkip = false } = {}) {
  const login = scope.locator('input[name=login]');
  if (sessionMaySkip) {
    const form = await Promise.race([
      login.waitFor().then(() => true),
      new Promise((resolve) => scope.once('close', () => resolve(false))),
    ]).catch(() => false);
    if (!form) return;
  }
  await login.fill('alice');
  await scope.locator('input[name=password]').fill(PASSWORD);
  await scope.getByRole('button', { name: decision === 'allow' ? 'Allow' : 'Deny', exact: true }).click();
}

/** Waits for the popup to close by itself (it tells the flow, then closes). */
async function popupCloses(popup) {
  if (!popup.isClosed()) await popup.waitForEvent('close', { timeout: 10_000 });
}

/** The failure step: its heading, the message `message` (reason `reason`) and Try again. */
async function expectFailure(scope, message, reason, { lang = 'en', timeout } = {}) {
  const heading = t(lang, 'signin-failed-title');
  await scope.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor({ timeout });
  const lead = scope.locator('main p.lead');
  assert.equal(await lead.getAttribute('data-signin-failure'), reason);
  assert.equal(await lead.textContent(), t(lang, message, { tool: TOOL }));
  await scope.getByRole('link', { name: t(lang, 'signin-retry'), exact: true }).waitFor();
}

/** Makes `window.open` fail in every frame, as a popup blocker does. */
function blockPopups(page) {
  return page.addInitScript(() => {
    window.open = () => null;
  });
}

function passthrough(plugboard, integrationId) {
  return fetch(`${plugboard.url}/v1/passthrough/gusto/v1`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${plugboard.key}`,
      'content-type': 'application/json',
      'x-integration-id': integrationId,
    },
    body: JSON.stringify({ method: 'GET', path: '/me' }),
  }).then(async (response) => ({ status: response.status, json: await response.json() }));
}

/** A host page that opens links with Plugboard's SDK, served by the Plugboard server. */
function startPlugboardSdkHost(plugboard) {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme HR app</title>
<script src="${plugboard.url}/sdk/plugboard-connect-0.1.0.min.js"></script></head>
<body><h1>Acme HR app</h1>
<script>
  window.events = [];
  window.openConnect = function (link) {
    window.connectOutcome = PlugboardConnect.showConnect(link, {
      onEvent: function (event) { window.events.push(event); },
    }).then(
      function (token) { return { resolved: true, token: token }; },
      function (error) { return { resolved: false, name: error.name }; });
  };
</script></body></html>`;
  return listen((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html);
  });
}

/** axe-core on the document of `scope`, zero violations (the tags of `a11y.test.mjs`). */
async function audit(scope, label) {
  if (!(await scope.evaluate(() => typeof window.axe === 'object'))) {
    await scope.addScriptTag({ content: AXE });
  }
  const { violations, passes } = await scope.evaluate(async () => {
    const results = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] },
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
  });
  assert.ok(passes > 5, `${label}: axe checked too little (${passes} rules passed)`);
  assert.deepEqual(violations, [], `${label}:\n${violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.join('\n  ')}`).join('\n')}`);
}
