// The operator's branding in Chromium: product name, logo and accent colour per environment in
// the header and on the buttons, the consent step's primary button in view on a phone without
// scrolling (a sticky footer), and axe-core with zero violations on the branded pages.
// axe is injected with a <script> tag, which the flow's CSP forbids, so the audited contexts are
// created with bypassCSP.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';

import { expectFocusOnHeading, expectHeading, launchBrowser, newContext, pickerTitle, primary, startPlugboard, t } from './helpers.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'];
const PRODUCT = 'Acme People';
const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10"><rect width="40" height="10" rx="2" fill="#0b5fff"/></svg>';

async function audit(page, label) {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async (tags) => {
    const results = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return results.violations.map((v) => `${v.id}: ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
  }, TAGS);
  assert.deepEqual(violations, [], `${label}:\n${violations.join('\n')}`);
}

/** Where the step's primary button is, and whether the page (or dialog) had to scroll. */
function placement(page) {
  return primary(page).evaluate((button) => {
    const box = button.getBoundingClientRect();
    const dialog = document.querySelector('.dialog').getBoundingClientRect();
    const scroller = document.scrollingElement;
    const dialogElement = document.querySelector('.dialog');
    return {
      top: box.top,
      bottom: box.bottom,
      height: box.height,
      viewport: window.innerHeight,
      dialogBottom: dialog.bottom,
      // The content is longer than the screen: without the sticky footer the button is below it.
      overflows: scroller.scrollHeight > window.innerHeight + 1 || dialogElement.scrollHeight > dialogElement.clientHeight + 1,
      scrolled: scroller.scrollTop + dialogElement.scrollTop,
    };
  });
}

describe('operator branding', { timeout: 150_000 }, () => {
  let plugboard;
  let browser;

  before(async () => {
    [plugboard, browser] = await Promise.all([
      startPlugboard({
        env: {
          PLUGBOARD_PRODUCT_NAME: 'Acme Live',
          PLUGBOARD_PRODUCT_NAME_DEVELOPMENT: PRODUCT,
          PLUGBOARD_ACCENT_COLOR_DEVELOPMENT: '#ffcc00',
          PLUGBOARD_LOGO_DEVELOPMENT: `data:image/svg+xml;base64,${Buffer.from(LOGO).toString('base64')}`,
        },
      }),
      launchBrowser(),
    ]);
  });

  after(async () => {
    await browser?.close();
    await plugboard?.stop();
  });

  test('phone (375×667): the consent step’s primary button is in view without scrolling; header and accent are the development branding; axe passes', async () => {
    const { page, close } = await newContext(browser, { viewport: { width: 375, height: 667 }, bypassCSP: true });
    try {
      await page.goto(await plugboard.createLink({ integration_tool: 'bamboohr' }));
      await expectHeading(page, t('en', 'consent-title', { product: PRODUCT }));
      await expectFocusOnHeading(page);

      const where = await placement(page);
      assert.ok(where.overflows, `the consent page is longer than a phone screen, else this checks nothing: ${JSON.stringify(where)}`);
      assert.equal(where.scrolled, 0, 'nothing scrolled');
      assert.ok(where.height > 0 && where.top >= 0 && where.bottom <= where.viewport, `the button is on screen: ${JSON.stringify(where)}`);

      // The header names the product and shows its logo, served by Plugboard itself.
      const brand = page.locator('header .brand');
      assert.equal((await brand.innerText()).trim(), PRODUCT);
      const logo = brand.locator('img');
      await page.waitForFunction(() => document.querySelector('header .brand img')?.complete);
      assert.match(await logo.getAttribute('src'), /^\/assets\/brand\/[0-9a-f]{16}\.svg$/);
      assert.ok(await logo.evaluate((img) => img.naturalWidth > 0), 'the logo loaded');

      // The accent on the button, with the dark text that stays readable on yellow.
      const colors = await primary(page).evaluate((button) => {
        const style = getComputedStyle(button);
        return { background: style.backgroundColor, color: style.color };
      });
      assert.deepEqual(colors, { background: 'rgb(255, 204, 0)', color: 'rgb(0, 0, 0)' });

      await audit(page, 'branded consent, phone');

      // The button works from where it is.
      await primary(page).click();
      await expectHeading(page, t('en', 'guide-title', { tool: 'BambooHR' }));
      const guide = await page.locator('ol.guide').innerText();
      assert.ok(guide.includes(`such as ${PRODUCT}`) && !guide.includes('Plugboard'), guide);
      await audit(page, 'branded guide, phone');
    } finally {
      await close();
    }
  });

  test('desktop: the button stays in the dialog’s view; the picker lists the sandbox first', async () => {
    const { page, close } = await newContext(browser, { viewport: { width: 1280, height: 600 }, bypassCSP: true });
    try {
      await page.goto(await plugboard.createLink());
      await expectHeading(page, pickerTitle());
      const first = await page.locator('ul.tools a').first().getAttribute('data-tool');
      assert.equal(first, 'sandbox');
      await audit(page, 'branded picker, desktop');

      await page.locator('ul.tools a[data-tool="bamboohr"]').click();
      await expectHeading(page, t('en', 'consent-title', { product: PRODUCT }));
      const where = await placement(page);
      assert.ok(where.overflows, `the consent page is longer than the dialog here: ${JSON.stringify(where)}`);
      assert.ok(where.top >= 0 && where.bottom <= Math.min(where.viewport, where.dialogBottom) + 0.5, `the button is in view: ${JSON.stringify(where)}`);
    } finally {
      await close();
    }
  });
});
