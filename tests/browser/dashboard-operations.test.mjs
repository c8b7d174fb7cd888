// The operator dashboard's operations pages in Chromium — Links, Webhooks (endpoints, the
// delivery log, a delivery's attempts), API keys, OAuth apps, Settings and the Audit trail — as
// an operator meets them: the issue's journey ("sign in, create a key, add an endpoint, create a
// magic link and complete it in another tab, find the integration by organisation name, see its
// integration-created delivery, disable it, see the integration-state-changed delivery,
// redeliver, delete") done in the pages alone (the API and the receiver only confirm what they
// show), against a webhook receiver on loopback that refuses the first delivery; axe-core on
// every kind of page reached; and a phone's width. `crates/server/tests/it/dashboard.rs` covers
// the same pages over plain HTTP; this file checks what a browser adds: the forms as rendered,
// secrets shown once and gone after a reload, the copy button, the layout at 390 px.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import {
  BINARY,
  REPO,
  audit as auditPage,
  expectSuccess,
  launchBrowser,
  listen,
  newContext,
  startPlugboard,
  submitSandboxKey,
  t,
  toCredentials,
} from './helpers.mjs';

const PASSWORD = 'correct horse battery staple';

// The dashboard's English texts, read from the file the binary is built from (single-line
// messages only, `{ $name }` filled from `args`), as dashboard.test.mjs reads them.
const FTL = readFileSync(path.join(REPO, 'crates/server/locales-dashboard/en/dashboard.ftl'), 'utf8');
const DASHBOARD_TEXTS = new Map([...FTL.matchAll(/^([a-z][\w-]*) = (.+)$/gm)].map((m) => [m[1], m[2]]));
function d(id, args = {}) {
  assert.ok(DASHBOARD_TEXTS.has(id), `no single-line message ${id} in dashboard.ftl`);
  return DASHBOARD_TEXTS.get(id).replace(/\{ \$(\w+) \}/g, (_, name) => {
    assert.ok(name in args, `message ${id} needs ${name}`);
    return args[name];
  });
}

/** Waits for the page's <h1>: `name` exactly, or a RegExp (some h1s end with a badge). */
async function heading(page, name) {
  await page.getByRole('heading', { level: 1, name, exact: typeof name === 'string' }).waitFor();
}

/** The confirmation above the page after an action. */
const notice = (page) => page.locator('main > p.notice');

/** Follows the dashboard's navigation to the section labelled by message `id`. */
async function nav(page, id) {
  await page.getByRole('navigation').getByRole('link', { name: d(id), exact: true }).click();
}

/**
 * Reloads `page` until `check()` holds: the dashboard has no live updates, so an operator
 * waiting for a delivery reloads. Fails with `label` after `timeout` ms.
 */
async function untilReloaded(page, check, label, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      const shown = await page.locator('main').innerText().catch(() => '(no main)');
      assert.fail(`${label}: not seen within ${timeout} ms on ${page.url()}:\n${shown.slice(0, 3000)}`);
    }
    await page.waitForTimeout(250);
    await page.reload();
  }
}

/** The rows of a table in the section headed by `headingId` (attempts, events, …). */
const rowsIn = (page, headingId) => page.locator(`section[aria-labelledby="${headingId}"] table tbody tr`);

/**
 * A webhook receiver on 127.0.0.1: it answers 500 (with a recognisable body) to its first
 * request and 200 to every later one, and records each request's headers and raw body.
 */
async function startReceiver() {
  const received = [];
  const server = await listen((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ path: request.url, headers: request.headers, body });
      if (received.length === 1) {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('answer 500: the receiver is not ready yet');
      } else {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('ok');
      }
    });
  });
  return { ...server, url: `${server.origin}/webhooks/plugboard`, received };
}

/**
 * Whether `request` is signed with `secret` as Standard Webhooks define it: `v1,` and the
 * base64 HMAC-SHA256 of `${webhook-id}.${webhook-timestamp}.${body}` under the secret's
 * base64-decoded part after `whsec_`; the header may list several space-separated signatures.
 */
function signedWith(secret, { headers, body }) {
  assert.ok(secret.startsWith('whsec_'), secret);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`)
    .digest('base64');
  return (headers['webhook-signature'] ?? '')
    .split(' ')
    .some((signature) => signature === `v1,${expected}`);
}

/** Opens the create form of the Links page if it is folded (it is, once links exist). */
async function openLinkForm(page) {
  const details = page.locator('details.actions-panel');
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
}

/**
 * Creates a magic link with the Links page's form (tool Sandbox, English) and resolves to the
 * link, read from the read-only field that shows it once.
 */
async function createLinkInPage(page, { organization, email, origin }) {
  await openLinkForm(page);
  await page.getByLabel(d('link-field-end-user-organization-name')).fill(organization);
  await page.getByLabel(d('link-field-end-user-email')).fill(email);
  await page.locator('#origin_id').fill(origin);
  await page.getByLabel(d('link-field-integration-category')).selectOption({ label: d('category-hris') });
  await page.locator('#tool').selectOption({ label: 'Sandbox' });
  await page.locator('#language').selectOption({ label: 'English' });
  await page.getByRole('button', { name: d('links-create-submit') }).click();
  await heading(page, d('links-title'));
  const field = page.locator('#new-link');
  await field.waitFor();
  assert.equal(await field.getAttribute('readonly'), '');
  return field.inputValue();
}

describe('operator dashboard: links, webhooks, keys, OAuth apps, settings, audit', { timeout: 300_000 }, () => {
  let plugboard;
  let browser;
  /** The journey's endpoint URL, whose deliveries the phone-width test shows. */
  let journeyEndpoint;

  /** `plugboard operators create` against the test's server; resolves to the one-time link. */
  async function createOperator(email, role = 'admin') {
    const args = ['operators', 'create', '--email', email, '--role', role];
    const { stdout } = await promisify(execFile)(BINARY, args, { env: plugboard.env });
    const link = stdout.trim().split('\n')[1];
    assert.ok(link?.startsWith(`${plugboard.url}/dashboard/welcome?token=pbst_`), `operators create printed ${stdout}`);
    return link;
  }

  /** Signs a new administrator `email` in with the CLI's link and a password: the overview. */
  async function signIn(page, email) {
    await page.goto(await createOperator(email));
    await heading(page, d('welcome-title'));
    await page.locator('#password').fill(PASSWORD);
    await page.locator('#confirm').fill(PASSWORD);
    await page.getByRole('button', { name: d('welcome-submit') }).click();
    await heading(page, d('overview-title'));
  }

  /** The URL of `suffix` in the development environment's dashboard. */
  const dev = (suffix) => `${plugboard.url}/dashboard/development${suffix}`;

  before(async () => {
    // Every test signs in from 127.0.0.1: the per-address sign-in limit would turn later ones
    // away. Both settle before anything throws, so `after` stops a started server.
    const started = await Promise.allSettled([
      startPlugboard({ env: { PLUGBOARD_RATE_LIMIT_SIGNINS: 'off' } }),
      launchBrowser(),
    ]);
    [plugboard, browser] = started.map((result) => result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
  });

  after(async () => {
    await browser?.close();
    await plugboard?.stop();
  });

  // Runs first: it needs development's endpoint list still empty, and removes its endpoint
  // again, so the journey's events reach the journey's receiver only.
  test('axe-core: every operations page, empty, filled, with errors', async () => {
    const receiver = await startReceiver();
    const { context, page, close } = await newContext(browser, { bypassCSP: true });
    // Every page is audited even after one fails, so a run reports all violations at once;
    // the test fails at its end if any page had one.
    const violations = [];
    const audit = async (scope, label) => {
      try {
        await auditPage(scope, label);
      } catch (error) {
        if (!(error instanceof assert.AssertionError)) throw error;
        violations.push(error.message.split('\n+ actual')[0]);
      }
    };
    try {
      await signIn(page, 'axel@ops.example');

      // Webhooks: empty, a validation error, the secret page, the endpoint, a delivery.
      await page.goto(dev('/webhooks'));
      await heading(page, d('webhooks-title'));
      await page.getByText(d('webhooks-none')).waitFor();
      await audit(page, 'webhooks, no endpoints');
      await page.locator('#url').fill(receiver.url);
      for (const box of await page.locator('fieldset input[type=checkbox]').all()) await box.uncheck();
      await page.getByRole('button', { name: d('webhooks-add-submit') }).click();
      await page.getByRole('alert').waitFor();
      await audit(page, 'webhooks, no event type chosen (400)');
      // The form keeps the URL; this endpoint listens for failed flows only, which the
      // journey does not cause.
      assert.equal(await page.locator('#url').inputValue(), receiver.url);
      await page.getByRole('checkbox', { name: 'connection-flow-failed', exact: true }).check();
      await page.getByRole('button', { name: d('webhooks-add-submit') }).click();
      await heading(page, d('secret-title'));
      assert.match(await page.locator('#secret').inputValue(), /^whsec_/);
      await audit(page, 'secret page (new endpoint)');
      await page.getByRole('link', { name: d('secret-continue') }).click();
      await page.locator('h1 .url', { hasText: receiver.url }).waitFor();
      await audit(page, 'endpoint, no deliveries');
      await page.getByRole('button', { name: d('endpoint-test') }).click();
      // The test event's delivery page comes next, where its attempts show.
      await heading(page, new RegExp(`^${d('delivery-title', { type: 'webhook-test' })}`));
      await notice(page).filter({ hasText: d('notice-test-sent') }).waitFor();
      await audit(page, 'delivery, queued');
      await untilReloaded(page, async () => (await rowsIn(page, 'attempts-heading').count()) > 0, 'an attempt');
      await audit(page, 'delivery, with a failed attempt');
      await page.locator('.crumbs').getByRole('link', { name: receiver.url, exact: true }).click();
      await page.locator('h1 .url', { hasText: receiver.url }).waitFor();
      await rowsIn(page, 'log-heading').first().waitFor();
      await audit(page, 'endpoint, with a delivery');
      await page.goto(dev('/webhooks'));
      await page.getByRole('link', { name: receiver.url, exact: true }).waitFor();
      await audit(page, 'webhooks, one endpoint');

      // Links: the created link's reveal, a link's page before and after it is opened.
      await page.goto(dev('/links'));
      await heading(page, d('links-title'));
      await audit(page, 'links, none yet (form open)');
      const link = await createLinkInPage(page, { organization: 'Axe Corp', email: 'it@axe.example', origin: 'axe' });
      await audit(page, 'links, the created link shown');
      await page.getByRole('link', { name: 'Axe Corp', exact: true }).click();
      await heading(page, /^Axe Corp/);
      await audit(page, 'link, not opened');
      const tab = await context.newPage();
      await tab.goto(link);
      await tab.close();
      await untilReloaded(page, async () => (await page.locator('ol.steps li').count()) > 0, 'the opened step');
      await audit(page, 'link, opened');

      // API keys: the key shown once, the list with it, after revoking it.
      await page.goto(dev('/api-keys'));
      await heading(page, d('keys-title'));
      await page.getByLabel(d('field-key-name')).fill('axe key');
      await page.getByRole('button', { name: d('keys-create-submit') }).click();
      await heading(page, d('key-created-title'));
      await audit(page, 'API key shown once');
      await page.getByRole('link', { name: d('key-continue') }).click();
      await heading(page, d('keys-title'));
      await audit(page, 'API keys, with keys');
      const row = page.locator('tbody tr', { has: page.locator('th', { hasText: 'axe key' }) });
      await row.getByText(d('key-revoke'), { exact: true }).click();
      await audit(page, 'API keys, revoke opened');
      await row.getByRole('button', { name: `${d('key-revoke-confirm')} axe key` }).click();
      await notice(page).filter({ hasText: d('notice-key-revoked') }).waitFor();
      await audit(page, 'API keys, after a revoke');

      // OAuth apps: the list, Gusto's form fresh and with the secret left empty.
      await page.goto(dev('/oauth-apps'));
      await heading(page, d('oauth-title'));
      await audit(page, 'OAuth apps');
      await page.getByRole('link', { name: 'Gusto', exact: true }).click();
      await heading(page, /^Gusto/);
      await audit(page, 'OAuth app form (Gusto)');
      await page.getByLabel(d('field-client-id')).fill('axe-client');
      // The browser would stop an empty required field; the server's own check is the one
      // with an error page to audit, so the form goes without the browser's validation.
      await page.locator('form:has(#client_secret)').evaluate((form) => {
        form.noValidate = true;
      });
      await page.getByRole('button', { name: d('oauth-save'), exact: true }).click();
      await page.getByRole('alert').waitFor();
      assert.equal(await page.getByLabel(d('field-client-id')).inputValue(), 'axe-client', 'the form keeps what was typed');
      await audit(page, 'OAuth app form, empty secret (400)');

      // Settings, fresh and refused.
      await page.goto(dev('/settings'));
      await heading(page, d('settings-title'));
      await audit(page, 'settings');
      await page.getByLabel(d('settings-frame-ancestors')).fill('https://app.example.com; script-src *');
      await page.getByRole('button', { name: d('settings-save'), exact: true }).click();
      await page.getByRole('alert').waitFor();
      await audit(page, 'settings, not an origin (400)');

      // The audit trail, whole and filtered.
      await page.goto(dev('/audit'));
      await heading(page, d('audit-title'));
      await audit(page, 'audit trail');
      await page.getByLabel(d('col-action')).selectOption('api_key.created');
      await page.getByRole('button', { name: d('filter-submit'), exact: true }).click();
      await page.waitForURL(/[?&]action=api_key\.created/);
      await audit(page, 'audit trail, filtered');

      // The endpoint goes again, deleted only once its URL is typed.
      await page.goto(dev('/webhooks'));
      await page.getByRole('link', { name: receiver.url, exact: true }).click();
      await page.getByText(d('action-delete'), { exact: true }).click();
      await page.getByLabel(d('endpoint-delete-type-url')).fill(receiver.url);
      await page.getByRole('button', { name: d('endpoint-delete-confirm') }).click();
      await heading(page, d('webhooks-title'));
      await notice(page).filter({ hasText: d('notice-endpoint-deleted') }).waitFor();
      await page.getByText(d('webhooks-none')).waitFor();
      assert.deepEqual(violations, [], `axe-core found violations:\n\n${violations.join('\n\n')}`);
    } finally {
      await close();
      await receiver.close();
    }
  });

  test("the issue's journey: key, endpoint, magic link completed, integration found, its deliveries, disable, redeliver, delete", async () => {
    const receiver = await startReceiver();
    const { context, page, offsite, close } = await newContext(browser);
    try {
      await signIn(page, 'olga@ops.example');
      await page.getByRole('link', { name: `${d('switch-to')} ${d('env-development')}` }).click();
      await heading(page, d('overview-title'));
      assert.equal(new URL(page.url()).pathname, '/dashboard/development');

      // An API key: shown once, it authenticates, and a reload no longer has it.
      await nav(page, 'nav-keys');
      await heading(page, d('keys-title'));
      await page.getByLabel(d('field-key-name')).fill('journey back end');
      await page.getByRole('button', { name: d('keys-create-submit') }).click();
      await heading(page, d('key-created-title'));
      await page.getByText(d('key-created', { name: 'journey back end' })).waitFor();
      const key = await page.locator('#secret').inputValue();
      assert.match(key, /^pb_dev_/);
      const checked = await fetch(`${plugboard.url}/v1/check-api-key`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(checked.status, 200, 'the new key authenticates');
      await page.getByRole('link', { name: d('key-continue') }).click();
      await heading(page, d('keys-title'));
      await page.reload();
      await heading(page, d('keys-title'));
      assert.ok(!(await page.content()).includes(key), 'the key is not in the list');
      assert.ok(!(await page.content()).includes(key.slice(-12)), 'nor its secret part');

      // A webhook endpoint for the receiver: the secret shown once.
      await nav(page, 'nav-webhooks');
      await heading(page, d('webhooks-title'));
      await page.getByLabel(d('field-url')).fill(receiver.url);
      for (const box of await page.locator('fieldset input[type=checkbox]').all()) {
        const name = await box.getAttribute('value');
        await box.setChecked(['integration-created', 'integration-state-changed'].includes(name));
      }
      await page.getByRole('button', { name: d('webhooks-add-submit') }).click();
      await heading(page, d('secret-title'));
      await page.getByText(d('secret-created', { url: receiver.url })).waitFor();
      const secret = await page.locator('#secret').inputValue();
      assert.match(secret, /^whsec_/);
      await page.getByRole('link', { name: d('secret-continue') }).click();
      await page.locator('h1 .url', { hasText: receiver.url }).waitFor();
      const endpointHref = page.url();
      journeyEndpoint = receiver.url;
      assert.ok(!(await page.content()).includes(secret.slice(6)), 'the secret is shown only once');
      const events = await page.locator('fieldset input[type=checkbox]:checked').evaluateAll((boxes) => boxes.map((b) => b.value));
      assert.deepEqual(events, ['integration-created', 'integration-state-changed']);

      // A magic link for Initech, completed by the customer in a tab of their own.
      await nav(page, 'nav-links');
      await heading(page, d('links-title'));
      const link = await createLinkInPage(page, { organization: 'Initech', email: 'it@initech.example', origin: 'initech' });
      assert.match(link, new RegExp(`^${plugboard.url}/connect\\?token=`));
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: plugboard.url });
      await page.locator('[data-copy=new-link]').click();
      await page.locator('[data-copy=new-link]', { hasText: d('copied') }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
      const tab = await context.newPage();
      await tab.goto(link);
      await toCredentials(tab, { pick: false }); // the link names Sandbox
      await submitSandboxKey(tab, 'good-key');
      await expectSuccess(tab);
      await tab.close();

      // The link's progress: used, and what the customer did. (Not a reload: the page is the
      // answer to the form's POST, and reloading would post it again.)
      await page.bringToFront();
      await nav(page, 'nav-links');
      await heading(page, d('links-title'));
      const linkRow = page.locator('tbody tr', { has: page.getByRole('link', { name: 'Initech', exact: true }) });
      await linkRow.locator('.badge', { hasText: d('link-used') }).waitFor();
      await linkRow.getByRole('link', { name: 'Initech', exact: true }).click();
      await heading(page, `Initech ${d('link-used')}`);
      const steps = await page.locator('ol.steps li strong').allTextContents();
      for (const step of [d('step-opened'), d('step-completed')]) {
        assert.ok(steps.includes(step), `${step} in ${JSON.stringify(steps)}`);
      }
      assert.equal(await page.getByRole('button', { name: d('link-revoke') }).count(), 0, 'a used link cannot be revoked');

      // The integration, found by the organisation's name.
      await nav(page, 'nav-integrations');
      await heading(page, d('integrations-title'));
      await page.getByLabel(d('integrations-search'), { exact: true }).fill('initech');
      await page.getByRole('button', { name: d('filter-submit'), exact: true }).click();
      await page.waitForURL(/[?&]q=initech/);
      assert.equal(await page.locator('table.list tbody tr').count(), 1, 'only Initech matches');
      await page.getByRole('link', { name: 'Initech', exact: true }).click();
      await heading(page, `Initech ${d('status-active')}`);
      const integrationHref = page.url();
      const integrationId = await page.locator('#integration-id').textContent();
      assert.match(integrationId, /^sandbox:/);

      // Its integration-created event, with the delivery to the endpoint.
      const createdRow = rowsIn(page, 'events-heading').filter({ has: page.locator('code', { hasText: /^integration-created$/ }) });
      await untilReloaded(page, async () => (await createdRow.locator('a.badge').count()) === 1, 'the integration-created delivery');
      await untilReloaded(page, () => receiver.received.length >= 1, 'the receiver called');
      const first = receiver.received[0];
      assert.equal(JSON.parse(first.body).type, 'integration-created');
      assert.ok(signedWith(secret, first), `signed with the secret shown once: ${first.headers['webhook-signature']}`);
      assert.ok(!signedWith(`whsec_${Buffer.from('another secret').toString('base64')}`, first), 'and not with another');

      // The delivery: the first attempt failed with 500 and what the receiver said.
      await createdRow.locator('a.badge').click();
      await heading(page, new RegExp(`^${d('delivery-title', { type: 'integration-created' })}`));
      assert.match(page.url(), /\/dashboard\/development\/webhooks\/deliveries\//);
      const deliveryHref = page.url();
      const attempts = rowsIn(page, 'attempts-heading');
      await untilReloaded(page, async () => (await attempts.count()) >= 1, 'the first attempt');
      const firstAttempt = await attempts.first().locator('td').allTextContents();
      assert.equal(firstAttempt[0], '1');
      assert.equal(firstAttempt[2], '500', `the first attempt's outcome: ${JSON.stringify(firstAttempt)}`);
      assert.match(firstAttempt[4], /answer 500: the receiver is not ready yet/);
      assert.equal(await attempts.first().locator('td.bad').count(), 1, 'marked as failed');
      assert.match(await page.locator('pre.payload').textContent(), /"type": "integration-created"/);

      // Deliver again: the receiver is called at once and answers 200.
      const before = receiver.received.length;
      await page.getByRole('button', { name: d('delivery-retry') }).click();
      await notice(page).filter({ hasText: d('notice-redelivery-queued') }).waitFor();
      await untilReloaded(page, () => receiver.received.length > before, 'the redelivery at the receiver');
      const again = receiver.received.at(-1);
      assert.equal(again.headers['webhook-id'], first.headers['webhook-id'], 'the same event');
      assert.ok(signedWith(secret, again));
      const delivered = async () => (await attempts.locator('td:nth-child(3)').allTextContents()).includes('200');
      await untilReloaded(page, delivered, 'a 200 attempt');
      await heading(page, `${d('delivery-title', { type: 'integration-created' })} ${d('delivery-succeeded')}`);

      // Disable it: integration-state-changed → INACTIVE, delivered to the endpoint.
      await page.goto(integrationHref);
      await heading(page, `Initech ${d('status-active')}`);
      const badge = rowsIn(page, 'events-heading').filter({ has: page.locator('code', { hasText: /^integration-created$/ }) }).locator('a.badge');
      assert.equal(new URL(await badge.getAttribute('href'), plugboard.url).href, deliveryHref, 'the badge links the delivery');
      await page.getByRole('button', { name: d('action-disable'), exact: true }).click();
      await notice(page).filter({ hasText: d('notice-disabled') }).waitFor();
      await heading(page, `Initech ${d('status-inactive')}`);
      const changedRow = rowsIn(page, 'events-heading').filter({ hasText: /integration-state-changed\s*→\s*INACTIVE/ });
      await untilReloaded(page, async () => (await changedRow.locator('a.badge').count()) === 1, 'the integration-state-changed delivery');
      await changedRow.locator('a.badge').click();
      await heading(page, new RegExp(`^${d('delivery-title', { type: 'integration-state-changed' })}`));
      await untilReloaded(page, delivered, 'integration-state-changed delivered (200)');
      assert.match(await page.locator('pre.payload').textContent(), /INACTIVE/);
      const changed = receiver.received.find((r) => JSON.parse(r.body).type === 'integration-state-changed');
      assert.ok(changed, 'the receiver got integration-state-changed');
      assert.ok(signedWith(secret, changed));

      // The endpoint's log lists both events; its filter finds one.
      await page.goto(endpointHref);
      const log = rowsIn(page, 'log-heading');
      assert.deepEqual((await log.locator('th code').allTextContents()).sort(), ['integration-created', 'integration-state-changed']);
      await page.getByLabel(d('field-event-type'), { exact: true }).selectOption('integration-state-changed');
      await page.getByRole('button', { name: d('filter-submit'), exact: true }).click();
      await page.waitForURL(/[?&]event_type=integration-state-changed/);
      assert.deepEqual(await log.locator('th code').allTextContents(), ['integration-state-changed']);

      // Delete the integration, once its name is typed.
      await page.goto(integrationHref);
      await heading(page, `Initech ${d('status-inactive')}`);
      await page.getByText(d('action-delete'), { exact: true }).click();
      const remove = page.getByRole('button', { name: d('action-delete-confirm') });
      await page.getByLabel(d('delete-type-name')).fill('Initech');
      await remove.click();
      await heading(page, d('integrations-title'));
      await notice(page).filter({ hasText: d('notice-deleted') }).waitFor();
      const gone = await plugboard.api('GET', `/integrations/${encodeURIComponent(integrationId)}`);
      assert.equal(gone.status, 404);

      // The audit trail: the one disable, by this operator.
      await nav(page, 'nav-audit');
      await heading(page, d('audit-title'));
      await page.getByLabel(d('col-action')).selectOption('integration.disabled');
      await page.getByRole('button', { name: d('filter-submit'), exact: true }).click();
      await page.waitForURL(/[?&]action=integration\.disabled/);
      const entries = page.locator('table.list tbody tr');
      assert.equal(await entries.count(), 1, 'one integration.disabled entry');
      const entry = await entries.first().locator('td').allTextContents();
      assert.equal(entry[1], 'integration.disabled');
      assert.match(entry[2], /^operator:/);
      assert.ok(entry[3].includes(integrationId), `the target names the integration: ${entry[3]}`);

      // Settings: the product name, seen in a flow opened afterwards.
      await nav(page, 'nav-settings');
      await heading(page, d('settings-title'));
      await page.getByLabel(d('settings-product-name')).fill('Initech Portal');
      await page.getByRole('button', { name: d('settings-save'), exact: true }).click();
      await notice(page).filter({ hasText: d('notice-settings-saved') }).waitFor();
      assert.equal(await page.getByLabel(d('settings-product-name')).inputValue(), 'Initech Portal');
      await nav(page, 'nav-links');
      const second = await createLinkInPage(page, { organization: 'Initrode', email: 'it@initrode.example', origin: 'initrode' });
      const flow = await context.newPage();
      await flow.goto(second);
      await heading(flow, t('en', 'consent-title', { product: 'Initech Portal' }));
      await flow.close();
      await page.bringToFront();
      // Back to the configured name, so the product stays generic for whatever runs next.
      await nav(page, 'nav-settings');
      await page.getByLabel(d('settings-product-name')).fill('');
      await page.getByRole('button', { name: d('settings-save'), exact: true }).click();
      await notice(page).filter({ hasText: d('notice-settings-saved') }).waitFor();

      // Gusto's OAuth app: saved as revision 1; the secret never comes back.
      await nav(page, 'nav-oauth');
      await heading(page, d('oauth-title'));
      assert.match(await page.getByLabel(d('oauth-redirect-uri')).inputValue(), /\/connect\/oauth\/callback$/);
      await page.getByRole('link', { name: 'Gusto', exact: true }).click();
      await heading(page, `Gusto ${d('oauth-not-configured')}`);
      await page.getByLabel(d('field-client-id')).fill('initech-gusto-client');
      await page.getByLabel(d('field-client-secret')).fill('gusto-secret-canary');
      await page.getByRole('button', { name: d('oauth-save'), exact: true }).click();
      await notice(page).filter({ hasText: d('notice-oauth-saved') }).waitFor();
      await heading(page, `Gusto ${d('oauth-configured')}`);
      await page.getByText(`${d('oauth-revision')} 1,`).waitFor();
      assert.ok(!(await page.content()).includes('gusto-secret-canary'), 'the client secret is not in the page');
      await nav(page, 'nav-oauth');
      const gusto = page.locator('tbody tr', { has: page.getByRole('link', { name: 'Gusto', exact: true }) });
      assert.match(await gusto.innerText(), new RegExp(`${d('oauth-revision')} 1[\\s\\S]*initech-gusto-client`));

      // The key is revoked and stops working.
      await nav(page, 'nav-keys');
      const keyRow = page.locator('tbody tr', { has: page.locator('th', { hasText: 'journey back end' }) });
      await keyRow.getByText(d('key-revoke'), { exact: true }).click();
      await keyRow.getByRole('button', { name: `${d('key-revoke-confirm')} journey back end` }).click();
      await notice(page).filter({ hasText: d('notice-key-revoked') }).waitFor();
      await keyRow.locator('.badge', { hasText: d('key-revoked') }).waitFor();
      const refused = await fetch(`${plugboard.url}/v1/check-api-key`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(refused.status, 401, 'the revoked key is refused');

      for (const request of receiver.received) assert.ok(signedWith(secret, request), `every delivery is signed: ${request.body}`);
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
      await receiver.close();
    }
  });

  test('phone width (390×844): no sideways page scroll on the operations pages', async () => {
    const { page, close } = await newContext(browser, { viewport: { width: 390, height: 844 } });
    try {
      /**
       * Whether the page fits 390 px (tables may scroll inside .table-wrap); a page that does
       * not is noted with what reaches past the edge, and the test fails at its end.
       */
      const overflows = [];
      async function fits(label) {
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        if (width <= 390) return;
        // The outermost elements that reach past the viewport, to say what to fix.
        const wide = await page.evaluate(() => {
          const found = [];
          for (const element of document.querySelectorAll('body *')) {
            const box = element.getBoundingClientRect();
            if (box.right <= 390 + 0.5) continue;
            // A table's box clips what is inside it, except what is positioned outside its flow.
            const positioned = ['absolute', 'fixed'].includes(getComputedStyle(element).position);
            if (element.parentElement?.closest('.table-wrap') && !positioned) continue;
            if (found.some((outer) => outer.contains(element))) continue;
            found.push(element);
          }
          // Else content spilling out of a box that does not clip it.
          if (found.length === 0) {
            for (const element of document.querySelectorAll('body *')) {
              const spills = element.scrollWidth > element.clientWidth + 1 && getComputedStyle(element).overflowX === 'visible';
              if (spills && element.getBoundingClientRect().left + element.scrollWidth > 390) found.push(element);
            }
          }
          return found.slice(0, 5).map((element) => {
            const classes = [...element.classList].map((c) => `.${c}`).join('');
            const id = element.id ? `#${element.id}` : '';
            const { left, right } = element.getBoundingClientRect();
            const where = element.closest('table') ? ` in table "${element.closest('table').querySelector('caption')?.textContent ?? ''}"` : '';
            return `${element.tagName.toLowerCase()}${id}${classes}${where} "${element.textContent.trim().slice(0, 40)}" (right edge ${Math.round(right)} px, content to ${Math.round(left + element.scrollWidth)} px)`;
          });
        });
        overflows.push(`${label}: the page is ${width} px wide; past 390 px: ${wide.join(', ')}`);
      }
      await signIn(page, 'pim@ops.example');
      await page.goto(dev('/links'));
      await heading(page, d('links-title'));
      await fits('links');
      await createLinkInPage(page, { organization: 'Phone Co', email: 'it@phone.example', origin: 'phone' });
      await fits('links, the created link shown');
      await page.getByRole('link', { name: 'Phone Co', exact: true }).click();
      await heading(page, /^Phone Co/);
      await fits('link');

      await page.goto(dev('/webhooks'));
      await heading(page, d('webhooks-title'));
      await fits('webhooks');
      // The journey's endpoint and its deliveries.
      assert.ok(journeyEndpoint, 'the journey added an endpoint');
      await page.getByRole('link', { name: journeyEndpoint, exact: true }).click();
      await page.locator('h1 .url').waitFor();
      await fits('endpoint');
      await rowsIn(page, 'log-heading').first().getByRole('link').click();
      await heading(page, new RegExp(`^${d('delivery-title', { type: 'integration-' })}`));
      await fits('delivery');

      await page.goto(dev('/api-keys'));
      await heading(page, d('keys-title'));
      await fits('API keys');
      await page.locator('tbody details summary').first().click();
      await fits('API keys, revoke opened');
      await page.goto(dev('/audit'));
      await heading(page, d('audit-title'));
      await fits('audit trail');
      await page.goto(dev('/settings'));
      await heading(page, d('settings-title'));
      await fits('settings');
      assert.deepEqual(overflows, [], `sideways scroll at 390 px:\n${overflows.join('\n')}`);
    } finally {
      await close();
    }
  });
});
