// What the end user sees when the tool refuses the credentials, using the sandbox tool, whose API
// key decides the outcome: a specific message in an alert that takes focus, a form that can be
// corrected and sent again, and a visible "checking" status while a slow tool answers.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectFocusOnHeading,
  expectHeading,
  expectSuccess,
  launchBrowser,
  newContext,
  openInSdk,
  primary,
  startHost,
  startPlugboard,
  submitSandboxKey,
  t,
  toCredentials,
} from './helpers.mjs';

const FAILURES = [
  { key: 'invalid', message: 'verify-invalid-credentials' },
  { key: 'missing_scope', message: 'verify-missing-permission' },
  { key: 'rate_limited', message: 'verify-rate-limited' },
];

describe('sandbox failures', { timeout: 120_000 }, () => {
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

  for (const { key, message } of FAILURES) {
    test(`“${key}” shows its own message in a focused alert, and a corrected key connects`, async () => {
      const { page, offsite, close } = await newContext(browser);
      try {
        const { frame, outcome } = await openInSdk(page, host, await plugboard.createLink());
        await toCredentials(frame);

        const verify = page.waitForResponse((r) => r.url().endsWith('/connect/verify'));
        await submitSandboxKey(frame, key);
        assert.equal((await verify).status(), 422);

        // Still the credentials page, now with the tool's verdict at the top.
        await expectHeading(frame, t('en', 'credentials-title', { tool: 'Sandbox' }));
        const alert = frame.getByRole('alert');
        await alert.waitFor();
        assert.equal(await alert.count(), 1);
        const text = (await alert.textContent()).replace(/\s+/g, ' ').trim();
        assert.equal(
          text,
          `${t('en', 'credentials-error-summary')} ${t('en', message, { tool: 'Sandbox', fields: 'Sandbox' })}`,
        );
        // Focus moved to the alert, so a screen reader reads it first.
        await frame.waitForFunction(() => document.activeElement?.getAttribute('role') === 'alert');
        // The secret is never sent back to the browser.
        assert.equal(await frame.locator('#f-api_key').inputValue(), '');

        await submitSandboxKey(frame, 'anything');
        await expectSuccess(frame);
        await expectFocusOnHeading(frame);
        await frame.locator('[data-done]').click();
        const result = await outcome();
        assert.equal(result.resolved, true, JSON.stringify(result));
        assert.match(result.token, /^pbat_/);
        assert.equal((await plugboard.redeem(result.token)).tool, 'sandbox');
        assert.deepEqual(offsite(), []);
      } finally {
        await close();
      }
    });
  }

  test('an empty key is caught in the browser, in the link’s language, without a request', async () => {
    const { page, close } = await newContext(browser);
    try {
      const { frame } = await openInSdk(page, host, await plugboard.createLink({ language: 'es' }));
      await toCredentials(frame, { lang: 'es' });
      const posts = [];
      page.on('request', (r) => r.method() === 'POST' && posts.push(r.url()));
      await primary(frame).click();
      const input = frame.locator('#f-api_key');
      await frame.waitForFunction(() => document.querySelector('#f-api_key').getAttribute('aria-invalid') === 'true');
      assert.equal(
        await frame.locator('#f-api_key-error').textContent(),
        t('es', 'field-required', { field: 'Clave de API' }),
      );
      assert.equal(await input.evaluate((el) => el === document.activeElement), true, 'focus is on the field');
      assert.deepEqual(posts, [], 'nothing was sent');

      // Typing a value clears the error as soon as the field is valid again.
      await input.fill('anything');
      assert.equal(await input.getAttribute('aria-invalid'), null);
      assert.equal(await frame.locator('#f-api_key-error').textContent(), '');
      await primary(frame).click();
      await expectSuccess(frame, { lang: 'es' });
    } finally {
      await close();
    }
  });

  test('“slow” shows “Checking with Sandbox…” while waiting, then connects', async () => {
    const { page, close } = await newContext(browser);
    try {
      const { frame, outcome } = await openInSdk(page, host, await plugboard.createLink());
      await toCredentials(frame);
      const status = frame.getByRole('status').filter({ hasText: t('en', 'credentials-verifying', { tool: 'Sandbox' }) });

      const started = Date.now();
      await submitSandboxKey(frame, 'slow');
      await status.waitFor({ timeout: 2_000 });
      assert.equal(await status.isVisible(), true);
      assert.equal(await primary(frame).isDisabled(), true, 'the button cannot be pressed twice');
      assert.equal(await frame.locator('h1#heading').textContent(), t('en', 'credentials-title', { tool: 'Sandbox' }));

      await expectSuccess(frame);
      assert.ok(Date.now() - started >= 2_500, 'the sandbox took its three seconds');
      await frame.locator('[data-done]').click();
      const result = await outcome();
      assert.match(result.token, /^pbat_/);
    } finally {
      await close();
    }
  });
});
