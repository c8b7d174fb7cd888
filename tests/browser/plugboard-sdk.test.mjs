// The flow through Plugboard's own SDK, loaded the way the guide's script-tag option loads it:
// from the Plugboard server's versioned path, on a host page of another origin. Its onEvent
// sees the flow's own events: each step, the tool chosen, a verification that failed.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectSuccess,
  launchBrowser,
  listen,
  newContext,
  startPlugboard,
  submitSandboxKey,
  toCredentials,
} from './helpers.mjs';

describe('embedded with Plugboard’s SDK from the server', { timeout: 120_000 }, () => {
  let plugboard;
  let host;
  let browser;

  before(async () => {
    [plugboard, browser] = await Promise.all([startPlugboard(), launchBrowser()]);
    const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme HR app</title>
<script src="${plugboard.url}/sdk/plugboard-connect-0.1.0.min.js"></script></head>
<body><h1>Acme HR app</h1><button type="button" id="connect">Connect your HR software</button>
<script>
  window.events = [];
  window.openConnect = function (link) {
    document.getElementById('connect').focus();
    window.connectOutcome = PlugboardConnect.showConnect(link, {
      onEvent: function (event) { window.events.push(event); },
    }).then(
      function (token) { return { resolved: true, token: token }; },
      function (error) { return { resolved: false, name: error.name }; });
  };
</script></body></html>`;
    host = await listen((request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(page);
    });
  });

  after(async () => {
    await browser?.close();
    await host?.close();
    await plugboard?.stop();
  });

  test('picker → sandbox → a refused key → a good key → Done, with every event', async () => {
    const { page, offsite, close } = await newContext(browser);
    try {
      const link = await plugboard.createLink();
      await page.goto(`${host.origin}/`);
      await page.evaluate((url) => window.openConnect(url), link);
      const iframe = page.locator('iframe[title=Connect]');
      await iframe.waitFor();
      const frame = await (await iframe.elementHandle()).contentFrame();
      await toCredentials(frame);
      await submitSandboxKey(frame, 'invalid');
      await frame.locator('[role=alert]').waitFor();
      await submitSandboxKey(frame, 'anything');
      await expectSuccess(frame);
      await frame.locator('[data-done]').click();

      const result = await page.evaluate(() => window.connectOutcome);
      assert.equal(result.resolved, true, JSON.stringify(result));
      const integration = await plugboard.redeem(result.token);
      assert.equal(integration.tool, 'sandbox');
      assert.equal(await page.locator('iframe').count(), 0);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'connect', 'focus returns to the button');

      const events = await page.evaluate(() => window.events);
      const summary = events.map((e) => (e.type === 'step' ? `step:${e.step}` : e.type));
      // 'loaded' (the frame's load event) and the first page's own 'step' race; both come
      // before the user can choose a tool.
      assert.ok(summary.indexOf('loaded') > 0 && summary.indexOf('loaded') < summary.indexOf('tool-selected'), summary.join());
      assert.deepEqual(summary.filter((type) => type !== 'loaded'), [
        'opened',
        'step:picker',
        'tool-selected',
        'step:consent',
        'step:guide',
        'step:credentials',
        'step:credentials',
        'verification-failed',
        'step:success',
        'succeeded',
      ]);
      assert.equal(events.find((e) => e.type === 'tool-selected').tool, 'sandbox');
      const failed = events.find((e) => e.type === 'verification-failed');
      assert.deepEqual([failed.tool, failed.reason], ['sandbox', 'invalid_credentials']);
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });

  test('the close button rejects with ConnectCancelledError', async () => {
    const { page, close } = await newContext(browser);
    try {
      await page.goto(`${host.origin}/`);
      await page.evaluate((url) => window.openConnect(url), await plugboard.createLink());
      const iframe = page.locator('iframe[title=Connect]');
      await iframe.waitFor();
      const frame = await (await iframe.elementHandle()).contentFrame();
      await frame.locator('button.close').click();
      assert.deepEqual(await page.evaluate(() => window.connectOutcome), { resolved: false, name: 'ConnectCancelledError' });
    } finally {
      await close();
    }
  });
});
