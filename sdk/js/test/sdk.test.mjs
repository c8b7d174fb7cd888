// The SDK in Chromium (Debian's /usr/bin/chromium through playwright-core): a host page on one
// origin opens a fake flow on another, which answers with the flow's postMessage protocol.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');

function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// The fake flow: `?then=success|close|event|nothing`; with `&hold=1` it answers only when the
// test calls `releaseHeld()`, so a test can look at the loading state without racing a timer
// (a fixed delay was too short on a loaded CI machine).
const FLOW = `<!doctype html><html><body><h1 tabindex="-1">Fake flow</h1>
<button id="close">Close</button>
<script>
  var then = new URLSearchParams(location.search).get('then');
  function post(message) { parent.postMessage(message, '*'); }
  document.getElementById('close').onclick = function () { post({ type: 'close' }); };
  // After the frame has loaded (the parent's 'loaded' comes first), as a real flow's user would.
  addEventListener('load', function () {
    setTimeout(function () {
      if (then === 'event') post({ type: 'event', data: { name: 'tool-selected', tool: 'personio' } });
      if (then === 'success' || then === 'event') setTimeout(function () { post({ type: 'success', data: { activation_token: 'pbat_token' } }); }, 30);
      if (then === 'close') post({ type: 'close' });
    }, 20);
  });
</script></body></html>`;

const HOST = `<!doctype html><html><head><script src="/global.js"></script>
<script type="module">import * as sdk from '/index.mjs'; window.sdk = sdk; window.ready = true;</script>
</head><body><button id="open">Connect</button><div id="box"></div></body></html>`;

let flow;
let host;
let browser;
let flowOrigin;
const held = [];

function releaseHeld() {
  for (const response of held.splice(0)) response.end(FLOW);
}

before(async () => {
  flow = await listen((request, response) => {
    if (new URL(request.url, 'http://x').searchParams.get('hold')) held.push(response);
    else response.end(FLOW);
  });
  host = await listen((request, response) => {
    const files = { '/index.mjs': 'index.mjs', '/global.js': 'plugboard-connect.min.js' };
    const file = files[request.url];
    if (file) {
      response.setHeader('content-type', 'text/javascript');
      response.end(readFileSync(path.join(dist, file)));
    } else {
      response.setHeader('content-type', 'text/html');
      response.end(HOST);
    }
  });
  flowOrigin = `http://127.0.0.1:${flow.address().port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

after(async () => {
  releaseHeld();
  for (const context of contexts) await context.close();
  await browser?.close();
  flow?.close();
  host?.close();
});

const contexts = [];

async function page() {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${host.address().port}/`);
  await page.waitForFunction(() => window.ready);
  return page;
}

// Opens a flow from the page with a click-focused button; resolves to the outcome.
function open(page, then, options = '{}') {
  return page.evaluate(
    ([link, options]) => {
      document.getElementById('open').focus();
      window.events = [];
      const settings = Object.assign(eval(`(${options})`), { onEvent: (e) => window.events.push(e) });
      window.outcome = window.sdk.showConnect(link, settings).then(
        (token) => ({ token }),
        (error) => ({ name: error.name, message: error.message, kombo: error instanceof window.sdk.KomboConnectCancelledError }),
      );
    },
    [`${flowOrigin}/flow?then=${then}`, options],
  );
}

test('resolves with the activation token, cleans up and returns focus', { timeout: 20_000 }, async () => {
  const p = await page();
  await open(p, 'event');
  const outcome = await p.evaluate(() => window.outcome);
  assert.deepEqual(outcome, { token: 'pbat_token' });
  assert.equal(await p.locator('iframe').count(), 0, 'the frame is gone');
  assert.equal(await p.locator('[role=progressbar]').count(), 0);
  assert.equal(await p.evaluate(() => document.activeElement.id), 'open', 'focus is back on the button');
  const events = await p.evaluate(() => window.events);
  assert.deepEqual(events.map((e) => e.type), ['opened', 'loaded', 'tool-selected', 'succeeded']);
  assert.equal(events[2].tool, 'personio');
});

test('close rejects with ConnectCancelledError, which is also KomboConnectCancelledError', { timeout: 20_000 }, async () => {
  const p = await page();
  await open(p, 'close');
  const outcome = await p.evaluate(() => window.outcome);
  assert.deepEqual(outcome, { name: 'ConnectCancelledError', message: 'The user cancelled the flow!', kombo: true });
  assert.deepEqual((await p.evaluate(() => window.events)).map((e) => e.type), ['opened', 'loaded', 'closed']);
});

test('shows a loading indicator until the flow loads, then moves focus into it', { timeout: 20_000 }, async () => {
  const p = await page();
  await open(p, 'nothing&hold=1');
  const loading = p.locator('[role=progressbar]');
  await loading.waitFor();
  assert.equal(await loading.getAttribute('aria-label'), 'Loading');
  assert.equal(await p.locator('iframe').evaluate((f) => f.style.opacity), '0');
  releaseHeld();
  await loading.waitFor({ state: 'detached' });
  assert.equal(await p.locator('iframe').evaluate((f) => f.style.opacity), '');
  assert.equal(await p.evaluate(() => document.activeElement.tagName), 'IFRAME');
  // The flow's own close button ends it.
  await p.frameLocator('iframe').locator('#close').click();
  assert.equal((await p.evaluate(() => window.outcome)).name, 'ConnectCancelledError');
});

test('Escape while loading cancels', { timeout: 20_000 }, async () => {
  const p = await page();
  await open(p, 'nothing&hold=1');
  await p.locator('[role=progressbar]').waitFor();
  await p.keyboard.press('Escape');
  assert.equal((await p.evaluate(() => window.outcome)).name, 'ConnectCancelledError');
  assert.equal(await p.locator('iframe').count(), 0);
});

test('messages from other windows or origins are ignored', { timeout: 20_000 }, async () => {
  const p = await page();
  await open(p, 'nothing');
  await p.locator('[role=progressbar]').waitFor({ state: 'detached' });
  // The host page itself, and a frame of another origin, claim success.
  await p.evaluate(() => window.postMessage({ type: 'success', data: { activation_token: 'forged' } }, '*'));
  await p.evaluate(() => {
    const other = document.createElement('iframe');
    other.srcdoc = "<script>parent.postMessage({type:'success',data:{activation_token:'forged'}},'*')<\/script>";
    document.body.append(other);
  });
  await p.waitForTimeout(300);
  const settled = await p.evaluate(() => Promise.race([window.outcome, new Promise((r) => setTimeout(() => r('pending'), 100))]));
  assert.equal(settled, 'pending');
  await p.frameLocator('iframe[title=Connect]').locator('#close').click();
  assert.equal((await p.evaluate(() => window.outcome)).name, 'ConnectCancelledError');
});

test('opening twice rejects the second and never leaves a second frame', { timeout: 20_000 }, async () => {
  const p = await page();
  await open(p, 'nothing');
  const second = await p.evaluate((link) => window.sdk.showConnect(link).then(() => 'resolved', (e) => [e.name, e instanceof window.sdk.KomboConnectAlreadyOpenError]), `${flowOrigin}/flow`);
  assert.deepEqual(second, ['ConnectAlreadyOpenError', true]);
  assert.equal(await p.locator('iframe').count(), 1);
  await p.frameLocator('iframe').locator('#close').click();
  await p.evaluate(() => window.outcome);
  // Closed: it opens again.
  await open(p, 'success');
  assert.deepEqual(await p.evaluate(() => window.outcome), { token: 'pbat_token' });
});

test('a container: the flow goes inside, and removing it cancels', { timeout: 20_000 }, async () => {
  const p = await page();
  await open(p, 'nothing', "{ container: document.getElementById('box') }");
  assert.equal(await p.locator('#box iframe').count(), 1);
  await p.evaluate(() => document.getElementById('box').remove());
  const outcome = await p.evaluate(() => window.outcome);
  assert.equal(outcome.name, 'ConnectCancelledError');
  assert.equal(outcome.message, 'The flow was removed');
});

test('bad input rejects without leaving the SDK stuck open', { timeout: 20_000 }, async () => {
  const p = await page();
  const results = await p.evaluate(async () => {
    const attempt = (link, options) => window.sdk.showConnect(link, options).then(() => 'resolved', (e) => e.name);
    const detached = document.createElement('div');
    return [await attempt('/connect?token=relative'), await attempt('http://127.0.0.1:1/', { container: detached })];
  });
  assert.deepEqual(results, ['TypeError', 'TypeError']);
  assert.equal(await p.locator('iframe').count(), 0);
  await open(p, 'success');
  assert.deepEqual(await p.evaluate(() => window.outcome), { token: 'pbat_token' });
});

test('the script-tag bundle defines PlugboardConnect with the same API and aliases', { timeout: 20_000 }, async () => {
  const p = await page();
  const api = await p.evaluate(() => Object.keys(window.PlugboardConnect).sort());
  assert.deepEqual(api, [
    'ConnectAlreadyOpenError',
    'ConnectCancelledError',
    'KomboConnectAlreadyOpenError',
    'KomboConnectCancelledError',
    'showConnect',
    'showKomboConnect',
  ]);
  const token = await p.evaluate((link) => window.PlugboardConnect.showKomboConnect(link), `${flowOrigin}/flow?then=success`);
  assert.equal(token, 'pbat_token');
});
