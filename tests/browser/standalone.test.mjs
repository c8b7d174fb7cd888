// Links opened top-level, in a tab of their own: a relink link that replaces an integration's
// credentials, a magic link that ends on its own success page, and a broken link. Without a parent
// window there is nobody to close for, so the close buttons are hidden.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  END_USER,
  expectFocusOnHeading,
  expectHeading,
  expectSuccess,
  launchBrowser,
  newContext,
  openInSdk,
  startHost,
  startPlugboard,
  submitSandboxKey,
  t,
  tamper,
  toCredentials,
} from './helpers.mjs';

describe('top-level links', { timeout: 120_000 }, () => {
  let plugboard;
  let host;
  let browser;

  before(async () => {
    [plugboard, host, browser] = await Promise.all([startPlugboard(), startHost(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await host?.close();
    await plugboard?.stop();
  });

  test('relink: new credentials through the relink link keep the integration id', async () => {
    const { page, offsite, close } = await newContext(browser);
    try {
      // A first connection, embedded as usual.
      const first = await plugboard.createLink();
      const { frame, outcome } = await openInSdk(page, host, first);
      await toCredentials(frame);
      await submitSandboxKey(frame, 'first-key');
      await expectSuccess(frame);
      await frame.locator('[data-done]').click();
      const { token } = await outcome();
      const integration = await plugboard.redeem(token);

      // The first link is spent.
      await page.goto(first);
      await expectHeading(page, t('en', 'error-used-title'));

      // The relink link names the integration's tool: no picker; it is opened top-level.
      const relink = await plugboard.relink(integration.id);
      await page.goto(relink);
      assert.equal(await page.locator('html').getAttribute('class'), 'standalone');
      await toCredentials(page, { pick: false });
      await submitSandboxKey(page, 'second-key');
      await expectSuccess(page);
      await expectFocusOnHeading(page);
      const done = page.locator('[data-done]');
      const relinkToken = await done.getAttribute('data-activation-token');
      assert.match(relinkToken, /^pbat_/);
      assert.notEqual(relinkToken, token);

      const relinked = await plugboard.redeem(relinkToken);
      assert.equal(relinked.id, integration.id, 'the same integration');
      assert.equal(relinked.tool, 'sandbox');
      assert.equal(relinked.end_user_origin_id, END_USER.end_user_origin_id);
      const { json } = await plugboard.api('GET', `/integrations/${encodeURIComponent(integration.id)}`);
      assert.equal(json.data.status, 'ACTIVE');
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });

  test('magic link: no close buttons, and the flow ends on a success page without Done', async () => {
    const { page, offsite, close } = await newContext(browser);
    try {
      const link = await plugboard.createLink({ link_type: 'MAGIC_LINK' });
      await page.goto(link);
      assert.equal(await page.locator('html').getAttribute('class'), 'standalone');
      // The page paints its own light background behind the dialog.
      assert.equal(
        await page.locator('.backdrop').evaluate((el) => getComputedStyle(el).display !== 'none' && getComputedStyle(el).backgroundColor),
        'rgb(243, 244, 246)',
      );

      const steps = ['picker', 'consent', 'guide', 'credentials'];
      for (const step of steps) {
        await expectFocusOnHeading(page);
        await assertNoVisibleClose(page, step);
        if (step === 'picker') {
          await page.getByRole('link', { name: 'Sandbox', exact: true }).click();
        } else if (step === 'credentials') {
          await submitSandboxKey(page, 'anything');
        } else {
          await page.locator('main .button').click();
        }
      }

      await expectSuccess(page);
      await expectFocusOnHeading(page);
      await assertNoVisibleClose(page, 'success');
      assert.equal(await page.locator('[data-done]').count(), 0, 'no Done button');
      assert.equal(
        await page.locator('main p.lead').textContent(),
        t('en', 'success-body', { organization: END_USER.end_user_organization_name, product: t('en', 'product-generic') }),
      );
      // Escape in a tab of its own does nothing.
      await page.keyboard.press('Escape');
      await expectSuccess(page);

      // The operator finds the integration by its customer id.
      const { json } = await plugboard.api('GET', `/integrations?end_user_origin_id=${END_USER.end_user_origin_id}&tool=sandbox`);
      assert.ok(json.data.results.length >= 1, JSON.stringify(json));

      // A magic link is used once.
      await page.goto(link);
      await expectHeading(page, t('en', 'error-used-title'));
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });

  test('a tampered link opened top-level explains itself, with no close button', async () => {
    const { page, close } = await newContext(browser);
    try {
      const response = await page.goto(tamper(await plugboard.createLink({ language: 'it' })));
      assert.equal(response.status(), 400);
      // A broken link's language is unknown: the browser's (English here) is used.
      await expectHeading(page, t('en', 'error-invalid-title'));
      await expectFocusOnHeading(page);
      await assertNoVisibleClose(page, 'problem');
    } finally {
      await close();
    }
  });

  test('an expired link says so in its own language, not as a broken link', async () => {
    const { page, close } = await newContext(browser);
    try {
      // A wrongly re-signed token would show the broken-link page (in English) instead.
      const response = await page.goto(plugboard.expire(await plugboard.createLink({ language: 'it' })));
      assert.equal(response.status(), 410);
      await expectHeading(page, t('it', 'error-expired-title'));
      await expectFocusOnHeading(page);
      await assertNoVisibleClose(page, 'problem');
    } finally {
      await close();
    }
  });
});

async function assertNoVisibleClose(page, step) {
  const closers = page.locator('button[data-close]');
  const count = await closers.count();
  for (let i = 0; i < count; i += 1) {
    assert.equal(await closers.nth(i).isVisible(), false, `${step}: a close control is visible`);
  }
}
