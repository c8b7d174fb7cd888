// The whole sandbox flow in German (a link with language "de"), embedded with Kombo's SDK: every
// page declares <html lang="de"> and speaks German, down to the step counter, the buttons, the
// browser-side field check and the tool's refusal.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectFocusOnHeading,
  expectHeading,
  launchBrowser,
  newContext,
  openInSdk,
  primary,
  startHost,
  startPlugboard,
  t,
} from './helpers.mjs';

describe('German', { timeout: 120_000 }, () => {
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

  test('the sandbox flow, in German from the picker to Fertig', async () => {
    // The browser itself prefers English: the link's language wins.
    const { page, offsite, close } = await newContext(browser, { locale: 'en-US' });
    try {
      const { frame, outcome } = await openInSdk(page, host, await plugboard.createLink({ language: 'de' }));

      async function expectGermanPage(heading, step) {
        await expectHeading(frame, heading);
        await expectFocusOnHeading(frame);
        assert.equal(await frame.locator('html').getAttribute('lang'), 'de');
        assert.equal(await frame.title(), heading);
        assert.equal(await frame.locator('header .close').getAttribute('aria-label'), 'Schließen');
        if (step) assert.equal(await frame.locator('header .step').textContent(), step);
      }

      await expectGermanPage('Welche HR-Software nutzt Acme, Inc.?', 'Schritt 1 von 4');
      assert.equal(await frame.locator('label[for=search]').textContent(), 'Suchen');
      await frame.getByRole('link', { name: 'Sandbox', exact: true }).click();

      await expectGermanPage('Was diese Anwendung tun kann', 'Schritt 2 von 4');
      assert.equal(await frame.locator('header .back').textContent(), 'Zurück');
      assert.equal(await frame.locator('.models li strong').first().textContent(), t('de', 'model-hris_employees'));
      assert.equal(await primary(frame).textContent(), 'Weiter');
      await primary(frame).click();

      await expectGermanPage('So erhalten Sie Ihre Zugangsdaten für Sandbox', 'Schritt 3 von 4');
      assert.deepEqual(await frame.locator('ol.guide li').allTextContents(), [
        t('de', 'guide-sandbox-1'),
        t('de', 'guide-sandbox-2'),
      ]);
      await primary(frame).click();

      await expectGermanPage('Sandbox verbinden', 'Schritt 4 von 4');
      assert.equal(await frame.locator('label[for=f-api_key]').textContent(), 'API-Schlüssel');
      assert.equal(await primary(frame).textContent(), 'Verbinden');

      // The browser's own check, in German rather than the browser's English.
      await primary(frame).click();
      await frame.waitForFunction(() => document.querySelector('#f-api_key-error').textContent !== '');
      assert.equal(await frame.locator('#f-api_key-error').textContent(), 'Füllen Sie API-Schlüssel aus.');

      // The tool's refusal, in German.
      await frame.locator('#f-api_key').fill('invalid');
      await primary(frame).click();
      const alert = frame.getByRole('alert');
      await alert.waitFor();
      assert.equal(
        (await alert.textContent()).replace(/\s+/g, ' ').trim(),
        `Die Verbindung hat nicht funktioniert: ${t('de', 'verify-invalid-credentials', { tool: 'Sandbox' })}`,
      );
      assert.equal(await frame.locator('html').getAttribute('lang'), 'de');

      await frame.locator('#f-api_key').fill('anything');
      await primary(frame).click();
      await expectGermanPage('Sandbox ist verbunden');
      assert.equal(
        await frame.locator('main p.lead').textContent(),
        t('de', 'success-body', { organization: 'Acme, Inc.', product: t('de', 'product-generic') }),
      );
      const done = frame.getByRole('button', { name: 'Fertig', exact: true });
      await done.click();
      const result = await outcome();
      assert.equal(result.resolved, true, JSON.stringify(result));
      assert.equal((await plugboard.redeem(result.token)).tool, 'sandbox');
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });
});
