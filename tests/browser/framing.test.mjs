// Who may frame a production link, and whom the flow talks to. Production links may be framed
// only by the origins in PLUGBOARD_FRAME_ANCESTORS_PRODUCTION: a page on another origin that
// frames one is refused by the browser (CSP frame-ancestors) and never receives the activation
// token, while the allowed origin completes the flow with Kombo's real SDK, and every message of
// the flow is addressed to that origin, never to "*".

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

import { GOOD_KEY, startFakeBambooHR } from './fake-vendor.mjs';
import {
  BINARY,
  END_USER,
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

/**
 * Records every postMessage of the flow's frames (not the host's) in `posts`: the flow's script
 * calls window.parent.postMessage, and window.parent is replaceable, so a wrapper sees each
 * message's target origin before passing it on to the real parent.
 */
async function recordFlowMessages(context, flowOrigin) {
  const posts = [];
  await context.exposeBinding('__recordFlowPost', (_source, entry) => posts.push(entry));
  await context.addInitScript((origin) => {
    if (window === window.top || window.location.origin !== origin) return;
    const real = window.parent;
    window.parent = {
      postMessage(message, target) {
        window.__recordFlowPost({ type: message && message.type, target });
        real.postMessage(message, target);
      },
    };
  }, flowOrigin);
  return posts;
}

/** Starts recording what the host page receives from any frame. */
async function recordHostMessages(page) {
  await page.evaluate(() => {
    window.received = [];
    window.addEventListener('message', (event) => {
      window.received.push({ origin: event.origin, data: JSON.stringify(event.data) });
    });
  });
}

describe('framing production links', { timeout: 180_000 }, () => {
  let vendor;
  let plugboard; // production framing allowed for `allowed`
  let defaults; // nothing configured
  let allowed;
  let foreign;
  let browser;

  /** A production API key of `server`, made with the CLI as an operator would. */
  async function withProductionKey(server) {
    const { stdout } = await promisify(execFile)(
      BINARY,
      ['api-keys', 'create', '--environment', 'production', '--name', 'framing'],
      { env: server.env },
    );
    return { ...server, productionKey: stdout.trim() };
  }

  before(async () => {
    vendor = await startFakeBambooHR();
    [allowed, foreign, browser] = await Promise.all([startHost(), startHost(), launchBrowser()]);
    [plugboard, defaults] = await Promise.all([
      startPlugboard({
        bamboohrBase: vendor.base,
        env: { PLUGBOARD_FRAME_ANCESTORS_PRODUCTION: allowed.origin },
      }).then(withProductionKey),
      startPlugboard({ bamboohrBase: vendor.base }).then(withProductionKey),
    ]);
  });

  after(async () => {
    await browser?.close();
    await allowed?.close();
    await foreign?.close();
    await plugboard?.stop();
    await defaults?.stop();
    await vendor?.close();
  });

  async function productionLink(server) {
    const { status, json } = await server.api(
      'POST',
      '/connect/create-link',
      { ...END_USER, integration_tool: 'bamboohr' },
      server.productionKey,
    );
    assert.equal(status, 200, JSON.stringify(json));
    return json.data.link;
  }

  for (const [name, server, ancestors] of [
    ['left at its default', () => defaults, () => "'none'"],
    ['set to another origin', () => plugboard, () => allowed.origin],
  ]) {
    test(`a page on another origin cannot frame a production link (framing ${name})`, async () => {
      const { context, page, close } = await newContext(browser);
      try {
        const posts = await recordFlowMessages(context, server().url);
        const link = await productionLink(server());
        await page.goto(`${foreign.origin}/`);
        await recordHostMessages(page);
        const served = page.waitForResponse((r) => r.url().startsWith(`${server().url}/connect?`));
        await page.evaluate((url) => window.openConnect(url), link);
        const response = await served;
        assert.equal(response.status(), 200);
        assert.ok(
          response.headers()['content-security-policy'].endsWith(`frame-ancestors ${ancestors()}`),
          response.headers()['content-security-policy'],
        );
        // The browser refuses to show it: the frame ends on Chromium's error page, not the flow.
        const frame = await (await page.locator('iframe').elementHandle()).contentFrame();
        await frame.waitForURL((url) => url.protocol === 'chrome-error:');
        assert.equal(await frame.locator('h1#heading').count(), 0);
        assert.deepEqual(posts, [], 'the flow never ran, so it posted nothing');
        assert.deepEqual(await page.evaluate(() => window.received), []);
      } finally {
        await close();
      }
    });
  }

  test('the allowed origin connects with Kombo\'s SDK; every message goes to it alone', async () => {
    const { context, page, offsite, close } = await newContext(browser);
    try {
      const posts = await recordFlowMessages(context, plugboard.url);
      const { frame, outcome } = await openInSdk(page, allowed, await productionLink(plugboard));
      await toCredentials(frame, { tool: 'BambooHR', pick: false });
      assert.equal(await frame.locator('html').getAttribute('data-parents'), allowed.origin);
      await frame.locator('#f-subdomain').fill('acme');
      await frame.locator('#f-api_key').fill(GOOD_KEY);
      await primary(frame).click();
      await expectHeading(frame, t('en', 'success-title', { tool: 'BambooHR' }));
      assert.equal(await frame.locator('[data-token]').count(), 0, 'production never shows the token');
      await frame.locator('[data-done]').click();
      const result = await outcome();
      assert.equal(result.resolved, true, JSON.stringify(result));
      const { status, json } = await plugboard.api(
        'GET',
        `/connect/integration-by-token/${encodeURIComponent(result.token)}`,
        undefined,
        plugboard.productionKey,
      );
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.data.tool, 'bamboohr');
      assert.ok(posts.some((post) => post.type === 'success'), JSON.stringify(posts));
      assert.deepEqual(
        [...new Set(posts.map((post) => post.target))],
        [allowed.origin],
        `every message is addressed to the allowed parent: ${JSON.stringify(posts)}`,
      );
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });

  test('production framing open to any site is warned about at start-up', async () => {
    const open = await startPlugboard({ env: { PLUGBOARD_FRAME_ANCESTORS_PRODUCTION: '*' } });
    try {
      assert.match(open.log(), /PLUGBOARD_FRAME_ANCESTORS_PRODUCTION allows any site to frame production links/);
    } finally {
      await open.stop();
    }
    assert.doesNotMatch(plugboard.log(), /allows any site to frame/);
  });
});
