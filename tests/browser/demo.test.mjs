// `plugboard serve --demo`: the README's quick start, in a browser. The demo customer app at `/`
// (its back end is the guide's: init, activate, webhook) loads Plugboard's SDK from the
// server, opens the flow, activates the integration, and shows the integration-created webhook
// with its signatures verified.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectSuccess,
  launchBrowser,
  newContext,
  startPlugboard,
  submitSandboxKey,
  toCredentials,
} from './helpers.mjs';

describe('serve --demo', { timeout: 120_000 }, () => {
  let plugboard;
  let browser;

  before(async () => {
    [plugboard, browser] = await Promise.all([startPlugboard({ demo: true }), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await plugboard?.stop();
  });

  test('Connect HRIS → Sandbox → Done: the integration and its verified webhook appear', async () => {
    const { page, offsite, close } = await newContext(browser);
    try {
      await page.goto(`${plugboard.url}/`);
      await page.getByRole('button', { name: 'Connect HRIS' }).click();
      const iframe = page.locator('iframe[title=Connect]');
      await iframe.waitFor();
      const frame = await (await iframe.elementHandle()).contentFrame();
      await toCredentials(frame);
      await submitSandboxKey(frame, 'demo-key');
      await expectSuccess(frame);
      await frame.locator('[data-done]').click();

      await page.getByRole('status').filter({ hasText: 'Connected.' }).waitFor();
      const integration = page.locator('#integrations li').filter({ hasText: 'sandbox for customer acme' });
      await integration.waitFor();
      const id = (await integration.locator('code').textContent()).trim();
      assert.match(id, /^sandbox:[1-9A-HJ-NP-Za-km-z]{24}$/);
      const webhook = page.locator('#webhooks li').filter({ hasText: 'integration-created' });
      await webhook.waitFor({ timeout: 20_000 });
      assert.equal((await webhook.locator('code').textContent()).trim(), id);
      assert.match(await webhook.textContent(), /signature verified/);
      assert.doesNotMatch(await page.locator('#webhooks').textContent(), /NOT verified/);
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });

  test('closing the flow says so, and nothing is activated', async () => {
    const { page, close } = await newContext(browser);
    try {
      await page.goto(`${plugboard.url}/`);
      await page.getByRole('button', { name: 'Connect ATS' }).click();
      const iframe = page.locator('iframe[title=Connect]');
      await iframe.waitFor();
      const frame = await (await iframe.elementHandle()).contentFrame();
      await frame.locator('button.close').click();
      await page.getByRole('status').filter({ hasText: 'Cancelled.' }).waitFor();
      assert.equal(await page.locator('iframe').count(), 0);
    } finally {
      await close();
    }
  });
});
