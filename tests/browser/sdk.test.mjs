// The flow embedded the way operators embed it: a host page on another origin opens the link with
// Kombo's real, unmodified front-end SDK (@kombo-api/connect 1.3.0), which puts it in an iframe
// and settles its promise from the iframe's postMessage calls.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  END_USER,
  expectHeading,
  expectSuccess,
  launchBrowser,
  newContext,
  openInSdk,
  pickerTitle,
  startHost,
  startPlugboard,
  submitSandboxKey,
  t,
  tamper,
  toCredentials,
} from './helpers.mjs';

describe('embedded with Kombo’s SDK', { timeout: 120_000 }, () => {
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

  test('picker → sandbox → consent → guide → credentials → Done resolves the SDK with an activation token', async () => {
    const { page, offsite, close } = await newContext(browser);
    try {
      const link = await plugboard.createLink();
      const { frame, outcome, iframeCount } = await openInSdk(page, host, link);
      await toCredentials(frame);
      // The flow runs on Plugboard's origin, not the host page's.
      assert.equal(new URL(frame.url()).origin, plugboard.url);
      assert.notEqual(plugboard.url, host.origin);
      await submitSandboxKey(frame, 'anything');
      await expectSuccess(frame);
      const done = frame.locator('[data-done]');
      assert.equal(await done.textContent(), t('en', 'success-done'));
      const shownToken = await done.getAttribute('data-activation-token');
      await done.click();

      const result = await outcome();
      assert.equal(result.resolved, true, JSON.stringify(result));
      assert.match(result.token, /^pbat_/);
      assert.equal(result.token, shownToken);
      assert.equal(await iframeCount(), 0, 'the SDK removed its iframe');

      const integration = await plugboard.redeem(result.token);
      assert.equal(integration.tool, 'sandbox');
      assert.equal(integration.end_user_origin_id, END_USER.end_user_origin_id);
      assert.equal(integration.end_user_organization_name, END_USER.end_user_organization_name);
      assert.match(integration.id, /^sandbox:/);

      assert.deepEqual(offsite(), [], 'no request left 127.0.0.1');
    } finally {
      await close();
    }
  });

  test('a tampered link shows “This link does not work”; its Close button cancels the SDK', async () => {
    const { page, offsite, close } = await newContext(browser);
    try {
      const link = await plugboard.createLink();
      const { frame, outcome, iframeCount } = await openInSdk(page, host, tamper(link));
      await expectHeading(frame, t('en', 'error-invalid-title'));
      assert.equal(await frame.locator('main p.lead').textContent(), t('en', 'error-invalid-body'));

      await frame.locator('main').getByRole('button', { name: t('en', 'close'), exact: true }).click();
      const result = await outcome();
      assert.equal(result.resolved, false);
      assert.equal(result.cancelled, true, JSON.stringify(result));
      assert.equal(result.name, 'KomboConnectCancelledError');
      assert.equal(result.message, 'The user cancelled the flow!');
      assert.equal(await iframeCount(), 0);
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });

  test('the close button in the bar cancels the SDK', async () => {
    const { page, close } = await newContext(browser);
    try {
      const { frame, outcome } = await openInSdk(page, host, await plugboard.createLink());
      await expectHeading(frame, pickerTitle());
      await frame.locator('header .close').click();
      const result = await outcome();
      assert.equal(result.cancelled, true, JSON.stringify(result));
      assert.equal(result.name, 'KomboConnectCancelledError');
    } finally {
      await close();
    }
  });

  test('once connected, closing the dialog still hands the activation token to the SDK', async () => {
    const { page, close } = await newContext(browser);
    try {
      for (const leave of ['Escape', 'close button']) {
        const { frame, outcome } = await openInSdk(page, host, await plugboard.createLink());
        await toCredentials(frame);
        await submitSandboxKey(frame, 'anything');
        await expectSuccess(frame);
        const shown = await frame.locator('[data-done]').getAttribute('data-activation-token');
        if (leave === 'Escape') await page.keyboard.press('Escape');
        else await frame.locator('header .close').click();
        const result = await outcome();
        assert.equal(result.resolved, true, `${leave}: ${JSON.stringify(result)}`);
        assert.equal(result.token, shown);
        assert.equal((await plugboard.redeem(result.token)).tool, 'sandbox');
      }
    } finally {
      await close();
    }
  });

  test('Escape inside the iframe closes it: the SDK rejects with KomboConnectCancelledError', async () => {
    const { page, close } = await newContext(browser);
    try {
      const { frame, outcome, iframeCount } = await openInSdk(page, host, await plugboard.createLink());
      await toCredentials(frame);
      // A keyboard user is typing into the form when they decide to leave.
      await frame.locator('#f-api_key').focus();
      await page.keyboard.type('half a ke');
      await page.keyboard.press('Escape');
      const result = await outcome();
      assert.equal(result.resolved, false);
      assert.equal(result.cancelled, true, JSON.stringify(result));
      assert.equal(result.name, 'KomboConnectCancelledError');
      assert.equal(await iframeCount(), 0);
    } finally {
      await close();
    }
  });
});
