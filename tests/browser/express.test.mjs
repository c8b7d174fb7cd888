// The whole loop with the example app (examples/express, the guide's code): button → SDK →
// flow → sandbox credentials → success → activation → integration stored by the app →
// integration-created received and verified by the app. Once with Plugboard's SDK loaded from
// the Plugboard server, once with Kombo's unmodified @kombo-api/connect in its place.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  REPO,
  expectSuccess,
  freePort,
  launchBrowser,
  newContext,
  startPlugboard,
  submitSandboxKey,
  toCredentials,
} from './helpers.mjs';

/** Starts the example app for `sdk`, with a webhook endpoint of its own; resolves to its URL. */
async function startExample(plugboard, sdk) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { status, json } = await plugboard.api('POST', '/webhooks', {
    url: `${url}/webhooks/kombo/integration-created`,
    events: ['integration-created'],
  });
  assert.equal(status, 200, JSON.stringify(json));
  const child = spawn(process.execPath, [path.join(REPO, 'examples/express/server.mjs')], {
    env: {
      ...process.env,
      PLUGBOARD_URL: plugboard.url,
      PLUGBOARD_API_KEY: plugboard.key,
      PLUGBOARD_WEBHOOK_SECRET: json.data.secret,
      CONNECT_SDK: sdk,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk) => { log += chunk; });
  child.stderr.on('data', (chunk) => { log += chunk; });
  const deadline = Date.now() + 20_000;
  while (!(await fetch(`${url}/stored`).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the example app did not start:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, stop: () => child.kill(), log: () => log };
}

async function stored(example) {
  return (await fetch(`${example.url}/stored`)).json();
}

async function connectThroughTheExample(browser, example) {
  const { page, offsite, close } = await newContext(browser);
  try {
    await page.goto(`${example.url}/`);
    await page.getByRole('button', { name: 'Connect HRIS' }).click();
    const iframe = page.locator('iframe');
    await iframe.waitFor();
    const frame = await (await iframe.elementHandle()).contentFrame();
    await toCredentials(frame);
    await submitSandboxKey(frame, 'example-key');
    await expectSuccess(frame);
    await frame.locator('[data-done]').click();
    await page.getByRole('status').filter({ hasText: 'Connected.' }).waitFor();

    const { integrations } = await stored(example);
    assert.equal(integrations.length, 1, example.log());
    assert.equal(integrations[0].tool, 'sandbox');
    assert.equal(integrations[0].customer, 'acme');
    // Both example apps' endpoints are in the development environment, so each receives every
    // integration-created: look for this integration's.
    const deadline = Date.now() + 20_000;
    let mine = [];
    while (!mine.length) {
      assert.ok(Date.now() < deadline, `no verified webhook reached the app:\n${example.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      mine = (await stored(example)).webhooks.filter((w) => w.integration === integrations[0].id);
    }
    assert.deepEqual(mine.map((w) => [w.type, w.verified]), [['integration-created', true]]);
    assert.deepEqual(offsite(), []);
  } finally {
    await close();
  }
}

describe('examples/express', { timeout: 180_000 }, () => {
  let plugboard;
  let browser;
  let ours;
  let kombos;

  before(async () => {
    [plugboard, browser] = await Promise.all([startPlugboard(), launchBrowser()]);
    ours = await startExample(plugboard, 'plugboard');
    kombos = await startExample(plugboard, 'kombo');
  });

  after(async () => {
    ours?.stop();
    kombos?.stop();
    await browser?.close();
    await plugboard?.stop();
  });

  test('the whole loop with Plugboard’s SDK from the server', async () => {
    await connectThroughTheExample(browser, ours);
  });

  test('the whole loop with Kombo’s unmodified @kombo-api/connect', async () => {
    await connectThroughTheExample(browser, kombos);
  });

  test('cancelling, and opening twice, leave one frame and a clear status', async () => {
    const { page, close } = await newContext(browser);
    try {
      await page.goto(`${ours.url}/`);
      // Two clicks before the first flow is shown: the second is refused, not stacked. Neither
      // call's promise is awaited here: which of the two opens the flow depends on which of
      // their create-link requests returns first, and that one settles only when the flow ends.
      await page.evaluate(() => { connectHris(); connectHris(); });
      const iframe = page.locator('iframe');
      await iframe.waitFor();
      assert.equal(await iframe.count(), 1);
      const frame = await (await iframe.elementHandle()).contentFrame();
      await frame.locator('button.close').click();
      await page.getByRole('status').filter({ hasText: 'Cancelled.' }).waitFor();
      assert.equal(await page.locator('iframe').count(), 0);
    } finally {
      await close();
    }
  });
});
