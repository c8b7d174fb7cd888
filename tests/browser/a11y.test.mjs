// axe-core on every page of the flow, embedded (as end users see it, inside the SDK's iframe)
// and top-level: WCAG 2.0 A and AA, 2.1 AA and 2.2 AA rules, with zero violations allowed.
// axe is injected with a <script> tag, which the flow's CSP (script-src 'self') forbids, so
// these contexts alone are created with bypassCSP.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';

import { startFakeBambooHR } from './fake-vendor.mjs';
import {
  expectFocusOnHeading,
  expectHeading,
  expectSuccess,
  launchBrowser,
  newContext,
  openInSdk,
  pickerTitle,
  primary,
  startHost,
  startPlugboard,
  submitSandboxKey,
  t,
  tamper,
} from './helpers.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'];

/**
 * Runs axe on the document of `scope` (a Page or Frame) and fails on any violation. Callers
 * first wait for the state to check (a heading with focus means the page's script has run).
 */
async function audit(scope, label) {
  if (!(await scope.evaluate(() => typeof window.axe === 'object'))) {
    await scope.addScriptTag({ content: AXE });
  }
  const { violations, passes } = await scope.evaluate(async (tags) => {
    const results = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return {
      passes: results.passes.length,
      violations: results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
      })),
    };
  }, TAGS);
  assert.ok(passes > 5, `${label}: axe checked too little (${passes} rules passed)`);
  assert.deepEqual(violations, [], `${label}:\n${violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.join('\n  ')}`).join('\n')}`);
}

describe('accessibility (axe-core)', { timeout: 150_000 }, () => {
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

  test('embedded sandbox flow: picker, consent, guide, credentials (fresh, field error, refused), success', async () => {
    const { page, close } = await newContext(browser, { bypassCSP: true });
    try {
      const { frame } = await openInSdk(page, host, await plugboard.createLink());
      await expectHeading(frame, pickerTitle());
      await expectFocusOnHeading(frame);
      await audit(frame, 'picker');

      // The picker with a search that matches nothing.
      await frame.locator('#search').fill('no such tool');
      await frame.getByText(t('en', 'picker-empty')).waitFor();
      await audit(frame, 'picker, nothing found');
      await frame.locator('#search').fill('');

      await frame.getByRole('link', { name: 'Sandbox', exact: true }).click();
      await expectHeading(frame, t('en', 'consent-title', { product: t('en', 'product-generic') }));
      await expectFocusOnHeading(frame);
      await audit(frame, 'consent');

      await primary(frame).click();
      await expectHeading(frame, t('en', 'guide-title', { tool: 'Sandbox' }));
      await expectFocusOnHeading(frame);
      await audit(frame, 'guide');

      await primary(frame).click();
      await expectHeading(frame, t('en', 'credentials-title', { tool: 'Sandbox' }));
      await expectFocusOnHeading(frame);
      await audit(frame, 'credentials');

      await primary(frame).click();
      await frame.waitForFunction(() => document.querySelector('#f-api_key').getAttribute('aria-invalid') === 'true');
      await audit(frame, 'credentials, field missing');

      await submitSandboxKey(frame, 'missing_scope');
      await frame.getByRole('alert').waitFor();
      await frame.waitForFunction(() => document.activeElement?.getAttribute('role') === 'alert');
      await audit(frame, 'credentials, refused');

      await submitSandboxKey(frame, 'anything');
      await expectSuccess(frame);
      await expectFocusOnHeading(frame);
      await audit(frame, 'success');
    } finally {
      await close();
    }
  });

  test('embedded BambooHR credentials: fresh, with a format error, and refused by the vendor', async () => {
    const { page, close } = await newContext(browser, { bypassCSP: true });
    try {
      const link = await plugboard.createLink({ integration_tool: 'bamboohr', language: 'de' });
      const { frame } = await openInSdk(page, host, `${link}&step=credentials`);
      await expectHeading(frame, t('de', 'credentials-title', { tool: 'BambooHR' }));
      await expectFocusOnHeading(frame);
      await audit(frame, 'BambooHR credentials');

      await frame.locator('#f-subdomain').fill('Not A Domain!');
      await primary(frame).click();
      await frame.waitForFunction(() => document.querySelector('#f-subdomain').getAttribute('aria-invalid') === 'true');
      await audit(frame, 'BambooHR credentials, format and missing key');

      await frame.locator('#f-subdomain').fill('acme');
      await frame.locator('#f-api_key').fill('wrong-key');
      await primary(frame).click();
      await frame.getByRole('alert').waitFor();
      await audit(frame, 'BambooHR credentials, refused');
    } finally {
      await close();
    }
  });

  test('problem page, embedded and top-level', async () => {
    const { page, close } = await newContext(browser, { bypassCSP: true });
    try {
      const broken = tamper(await plugboard.createLink());
      const { frame } = await openInSdk(page, host, broken);
      await expectHeading(frame, t('en', 'error-invalid-title'));
      await expectFocusOnHeading(frame);
      await audit(frame, 'problem, embedded');

      await page.goto(broken);
      await expectHeading(page, t('en', 'error-invalid-title'));
      await expectFocusOnHeading(page);
      await audit(page, 'problem, top-level');
    } finally {
      await close();
    }
  });

  test('top-level magic link: picker and the success page without Done', async () => {
    const { page, close } = await newContext(browser, { bypassCSP: true });
    try {
      await page.goto(await plugboard.createLink({ link_type: 'MAGIC_LINK', language: 'fr' }));
      await expectHeading(page, pickerTitle('fr'));
      await expectFocusOnHeading(page);
      await audit(page, 'picker, top-level');
      await page.getByRole('link', { name: 'Sandbox', exact: true }).click();
      await primary(page).click();
      await primary(page).click();
      await expectHeading(page, t('fr', 'credentials-title', { tool: 'Sandbox' }));
      await submitSandboxKey(page, 'anything');
      await expectSuccess(page, { lang: 'fr' });
      await expectFocusOnHeading(page);
      await audit(page, 'magic link success, top-level');
    } finally {
      await close();
    }
  });
});
