// The sandbox flow with the keyboard alone, embedded with Kombo's SDK: Tab, typing and Enter, no
// clicks. Each new page puts focus on its heading, every control reached with Tab shows a
// visible focus outline, and Tab stays inside the modal dialog.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectFocusOnHeading,
  expectHeading,
  focused,
  launchBrowser,
  newContext,
  openInSdk,
  pickerTitle,
  startHost,
  startPlugboard,
  t,
} from './helpers.mjs';

describe('keyboard only', { timeout: 120_000 }, () => {
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

  test('picker → consent → guide → credentials → Done with Tab, typing and Enter', async () => {
    const { page, offsite, close } = await newContext(browser);
    try {
      const { frame, outcome } = await openInSdk(page, host, await plugboard.createLink());
      const { keyboard } = page;

      /** Presses Tab (Shift+Tab with `back`) and checks where focus went and that it shows. */
      async function tab(expected, { back = false } = {}) {
        await keyboard.press(back ? 'Shift+Tab' : 'Tab');
        const now = await focused(frame);
        assert.ok(expected(now), `focus went to ${JSON.stringify(now)}`);
        assert.notEqual(now.outlineStyle, 'none', `no visible focus on ${JSON.stringify(now)}`);
        assert.notEqual(now.outlineWidth, '0px', `no visible focus on ${JSON.stringify(now)}`);
        assert.equal(now.focusVisible, true);
        return now;
      }

      // Picker: focus starts on the heading; search, then the one tool left.
      await expectHeading(frame, pickerTitle());
      await expectFocusOnHeading(frame);
      await tab((f) => f.id === 'search');
      await keyboard.type('sandb');
      assert.deepEqual(
        await frame.locator('#tools li:visible').allTextContents(),
        ['Sandbox'],
        'the search left only Sandbox',
      );
      await tab((f) => f.tag === 'a' && f.text === 'Sandbox');
      await keyboard.press('Enter');

      // Consent and guide: the heading, then Continue.
      for (const heading of [
        t('en', 'consent-title', { product: t('en', 'product-generic') }),
        t('en', 'guide-title', { tool: 'Sandbox' }),
      ]) {
        await expectHeading(frame, heading);
        await expectFocusOnHeading(frame);
        await tab((f) => f.tag === 'a' && f.text === t('en', 'continue'));
        await keyboard.press('Enter');
      }

      // Credentials: the field, a key, Enter submits.
      await expectHeading(frame, t('en', 'credentials-title', { tool: 'Sandbox' }));
      await expectFocusOnHeading(frame);
      await tab((f) => f.id === 'f-api_key');
      await keyboard.type('anything');
      await keyboard.press('Enter');

      // Success: Done; Tab cycles inside the dialog rather than escaping to the host page.
      await expectHeading(frame, t('en', 'success-title', { tool: 'Sandbox' }));
      await expectFocusOnHeading(frame);
      await tab((f) => f.tag === 'button' && f.text === t('en', 'success-done'));
      await tab((f) => f.tag === 'button' && f.text === '×');
      assert.equal(await page.evaluate(() => document.activeElement.tagName), 'IFRAME', 'focus stayed in the flow');
      await tab((f) => f.tag === 'button' && f.text === t('en', 'success-done'), { back: true });
      await keyboard.press('Enter');

      const result = await outcome();
      assert.equal(result.resolved, true, JSON.stringify(result));
      assert.match(result.token, /^pbat_/);
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });

  test('Shift+Tab from the first control wraps to the last one', async () => {
    const { page, close } = await newContext(browser);
    try {
      const { frame, outcome } = await openInSdk(page, host, await plugboard.createLink({ integration_tool: 'sandbox' }));
      await expectHeading(frame, t('en', 'consent-title', { product: t('en', 'product-generic') }));
      await expectFocusOnHeading(frame);
      // The heading is the first thing after the bar's close button.
      await page.keyboard.press('Shift+Tab');
      assert.equal((await focused(frame)).text, '×');
      await page.keyboard.press('Shift+Tab');
      const last = await focused(frame);
      assert.equal(last.text, t('en', 'continue'), 'wrapped to Continue');
      assert.equal(await page.evaluate(() => document.activeElement.tagName), 'IFRAME');
      // And Escape leaves, from wherever focus is.
      await page.keyboard.press('Escape');
      assert.equal((await outcome()).name, 'KomboConnectCancelledError');
    } finally {
      await close();
    }
  });
});
