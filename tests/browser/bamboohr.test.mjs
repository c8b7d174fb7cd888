// A real catalog tool, BambooHR, verified against a fake BambooHR on 127.0.0.1: the link names
// the tool (no picker), the vendor's refusal becomes the invalid-credentials message, the
// browser checks the subdomain's format in the link's language, and good credentials connect
// with the Basic header BambooHR expects.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { GOOD_KEY, startFakeBambooHR } from './fake-vendor.mjs';
import {
  END_USER,
  expectFocusOnHeading,
  expectHeading,
  launchBrowser,
  newContext,
  openInSdk,
  primary,
  startHost,
  startPlugboard,
  t,
  toCredentials,
} from './helpers.mjs';

// French, so the field messages cannot be the browser's own (English) ones.
const LANG = 'fr';
const SUBDOMAIN_LABEL = 'Sous-domaine de l\'entreprise';

describe('BambooHR against a fake vendor', { timeout: 120_000 }, () => {
  let vendor;
  let plugboard;
  let host;
  let browser;

  before(async () => {
    vendor = await startFakeBambooHR();
    [plugboard, host, browser] = await Promise.all([
      startPlugboard({ bamboohrBase: vendor.base }),
      startHost(),
      launchBrowser(),
    ]);
  });

  after(async () => {
    await browser?.close();
    await host?.close();
    await plugboard?.stop();
    await vendor?.close();
  });

  test('picker skipped; wrong key refused; bad subdomain caught in the browser; good key connects', async () => {
    const { page, offsite, close } = await newContext(browser);
    try {
      const link = await plugboard.createLink({ integration_tool: 'bamboohr', language: LANG });
      const { frame, outcome } = await openInSdk(page, host, link);

      // The link names the tool: the flow opens on the consent step, of three.
      await toCredentials(frame, { lang: LANG, tool: 'BambooHR', pick: false });
      assert.equal(await frame.locator('.step').textContent(), t(LANG, 'step-of', { current: '3', total: '3' }));
      assert.equal(await frame.locator('html').getAttribute('lang'), LANG);
      const subdomain = frame.locator('#f-subdomain');
      const apiKey = frame.locator('#f-api_key');

      // 1. A key BambooHR refuses.
      await subdomain.fill('acme');
      await apiKey.fill('wrong-key');
      const refused = page.waitForResponse((r) => r.url().endsWith('/connect/verify'));
      await primary(frame).click();
      assert.equal((await refused).status(), 422);
      const alert = frame.getByRole('alert');
      await alert.waitFor();
      assert.match(
        (await alert.textContent()).replace(/\s+/g, ' '),
        new RegExp(escape(t(LANG, 'verify-invalid-credentials', { tool: 'BambooHR' }))),
      );
      await frame.waitForFunction(() => document.activeElement?.getAttribute('role') === 'alert');
      assert.equal(vendor.requests.length, 1);
      assert.equal(vendor.requests[0].subdomain, 'acme');
      assert.equal(vendor.requests[0].headers.authorization, basic('wrong-key:x'));
      // The subdomain is kept for the next attempt; the key is not sent back.
      assert.equal(await subdomain.inputValue(), 'acme');
      assert.equal(await apiKey.inputValue(), '');

      // 2. A subdomain that cannot be one: the browser's pattern check, in French.
      await subdomain.fill('Not A Domain!');
      await apiKey.fill(GOOD_KEY);
      await primary(frame).click();
      await frame.waitForFunction(() => document.querySelector('#f-subdomain').getAttribute('aria-invalid') === 'true');
      assert.equal(
        await frame.locator('#f-subdomain-error').textContent(),
        t(LANG, 'field-pattern', { field: SUBDOMAIN_LABEL }),
      );
      assert.equal(await subdomain.evaluate((el) => el === document.activeElement), true, 'focus is on the field');
      assert.match(await subdomain.getAttribute('aria-describedby'), /\bf-subdomain-error\b/);
      assert.equal(await apiKey.getAttribute('aria-invalid'), null, 'only the wrong field is marked');
      assert.equal(vendor.requests.length, 1, 'nothing was sent to BambooHR');

      // 3. Corrected: connected, with BambooHR's Basic auth.
      await subdomain.fill('acme');
      assert.equal(await subdomain.getAttribute('aria-invalid'), null, 'the error clears once corrected');
      await primary(frame).click();
      await expectHeading(frame, t(LANG, 'success-title', { tool: 'BambooHR' }));
      await expectFocusOnHeading(frame);
      assert.equal(vendor.requests.length, 2);
      const accepted = vendor.requests[1];
      assert.equal(accepted.method, 'GET');
      assert.equal(accepted.path, '/api/gateway.php/acme/v1/employees/directory');
      assert.equal(accepted.headers.authorization, basic(`${GOOD_KEY}:x`));
      assert.equal(accepted.headers.accept, 'application/json');

      await frame.locator('[data-done]').click();
      const result = await outcome();
      assert.equal(result.resolved, true, JSON.stringify(result));
      const integration = await plugboard.redeem(result.token);
      assert.equal(integration.tool, 'bamboohr');
      assert.equal(integration.end_user_origin_id, END_USER.end_user_origin_id);
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });
});

describe('tool_base_urls in a --config file', { timeout: 60_000 }, () => {
  // The other tests set PLUGBOARD_TOOL_BASE_URLS; this one uses the TOML table form instead.
  test('a [tool_base_urls] table points BambooHR at the fake vendor', async () => {
    const vendor = await startFakeBambooHR();
    const plugboard = await startPlugboard({ bamboohrBase: vendor.base, configFile: true });
    try {
      const link = new URL(await plugboard.createLink({ integration_tool: 'bamboohr' }));
      // The form's own page gives the signed form state; posting it is what the page does.
      const page = await fetch(`${link.origin}/connect?token=${encodeURIComponent(link.searchParams.get('token'))}&step=credentials`);
      const html = await page.text();
      const state = /name="state" value="([^"]+)"/.exec(html)[1];
      const response = await fetch(`${link.origin}/connect/verify`, {
        method: 'POST',
        // A browser sends the page's origin; the flow refuses a post without one.
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: link.origin },
        body: new URLSearchParams({
          token: link.searchParams.get('token'),
          tool: 'bamboohr',
          state,
          'field.subdomain': 'acme',
          'field.api_key': GOOD_KEY,
        }),
      });
      assert.equal(vendor.requests.length, 1, 'the verification request reached the fake vendor');
      assert.equal(response.status, 200);
    } finally {
      await plugboard.stop();
      await vendor.close();
    }
  });
});

function basic(pair) {
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
