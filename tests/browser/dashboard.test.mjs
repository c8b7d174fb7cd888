// The operator dashboard (`/dashboard`) in Chromium, as operators meet it: an account made with
// `plugboard operators create`, its one-time link, the password page, the pages of the
// production and development environments and every action on an integration, with a mouse,
// with the keyboard alone, at a phone's width and as a viewer; axe-core on each kind of page.
// `crates/server/tests/it/dashboard.rs` covers the same journeys over plain HTTP; this file
// checks what only a browser shows: the script that guards Delete, focus, layout, the back
// button after signing out.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import {
  BINARY,
  REPO,
  audit,
  expectSuccess,
  launchBrowser,
  newContext,
  startPlugboard,
  submitSandboxKey,
  t,
  toCredentials,
} from './helpers.mjs';

const PASSWORD = 'correct horse battery staple';

// The dashboard's English texts, read from the file the binary is built from (single-line
// messages only), so the tests follow wording changes as `t` does for the flow.
const FTL = readFileSync(path.join(REPO, 'crates/server/locales-dashboard/en/dashboard.ftl'), 'utf8');
const DASHBOARD_TEXTS = new Map([...FTL.matchAll(/^([a-z][\w-]*) = (.+)$/gm)].map((m) => [m[1], m[2]]));
function d(id) {
  assert.ok(DASHBOARD_TEXTS.has(id), `no single-line message ${id} in dashboard.ftl`);
  return DASHBOARD_TEXTS.get(id);
}

/** Waits for the page's <h1>: `name` exactly, or a RegExp (an integration's h1 ends with its badge). */
async function heading(page, name) {
  await page.getByRole('heading', { level: 1, name, exact: typeof name === 'string' }).waitFor();
}

/** The confirmation above the page after an action (`p.notice`: `.reveal` is a status too). */
const notice = (page) => page.locator('main > p.notice');

describe('operator dashboard', { timeout: 300_000 }, () => {
  let plugboard;
  let browser;
  /** An integration the tests only look at (Initech, development): its id and its page. */
  let fixture;

  /** `plugboard operators create` against the test's server; resolves to the one-time link. */
  async function createOperator(email, role = 'admin') {
    const args = ['operators', 'create', '--email', email, '--role', role];
    const { stdout } = await promisify(execFile)(BINARY, args, { env: plugboard.env });
    const link = stdout.trim().split('\n')[1];
    assert.ok(link?.startsWith(`${plugboard.url}/dashboard/welcome?token=pbst_`), `operators create printed ${stdout}`);
    return link;
  }

  /** Opens `email`'s one-time link in `page`, chooses PASSWORD and lands on the overview. */
  async function welcome(page, link, email) {
    await page.goto(link);
    await heading(page, d('welcome-title'));
    await page.getByText(email, { exact: true }).waitFor(); // whose account this is
    await page.locator('#password').fill(PASSWORD);
    await page.locator('#confirm').fill(PASSWORD);
    await page.getByRole('button', { name: d('welcome-submit') }).click();
    await heading(page, d('overview-title'));
  }

  /**
   * A customer completes a magic link for `organization` top-level in a tab of `context`, as
   * they would from an e-mail; the integration lands in development (the tests' API key).
   */
  async function connect(context, organization, origin) {
    const link = await plugboard.createLink({
      link_type: 'MAGIC_LINK',
      end_user_organization_name: organization,
      end_user_email: `it@${origin}.example`,
      end_user_origin_id: origin,
    });
    const tab = await context.newPage();
    await tab.goto(link);
    await heading(tab, t('en', 'picker-title', { category: t('en', 'category-HRIS'), organization }));
    await tab.getByRole('link', { name: 'Sandbox', exact: true }).click();
    await toCredentials(tab, { pick: false });
    await submitSandboxKey(tab, 'good-key');
    await expectSuccess(tab);
    await tab.close();
  }

  /** The integration's status as the API reports it (404 once deleted). */
  async function apiStatus(id) {
    const { status, json } = await plugboard.api('GET', `/integrations/${encodeURIComponent(id)}`);
    return status === 200 ? json.data.status : status;
  }

  /**
   * From an integration's page, posts "disable" as a crafted form would: a viewer's page has
   * no such form, but the session's CSRF token is in the sign-out form, so only the role can
   * stop it. Resolves to the answer.
   */
  async function postDisable(page) {
    const answer = page.waitForResponse((r) => r.url().endsWith('/enabled') && r.request().method() === 'POST');
    await page.evaluate(() => {
      const form = Object.assign(document.createElement('form'), { method: 'post', action: `${location.pathname}/enabled` });
      const csrf = document.querySelector('input[name=csrf]').value;
      for (const [name, value] of Object.entries({ csrf, enabled: 'false' })) {
        form.append(Object.assign(document.createElement('input'), { type: 'hidden', name, value }));
      }
      document.body.append(form);
      form.submit();
    });
    return answer;
  }

  before(async () => {
    // Every test signs in from 127.0.0.1: the per-address sign-in limit (10 a minute) would
    // turn the later ones away; the per-account lock stays on. Both settle before anything
    // throws, so `after` stops a started server even if Chromium fails (else node waits).
    const started = await Promise.allSettled([
      startPlugboard({ env: { PLUGBOARD_RATE_LIMIT_SIGNINS: 'off' } }),
      launchBrowser(),
    ]);
    [plugboard, browser] = started.map((result) => result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    const { context, close } = await newContext(browser);
    await connect(context, 'Initech', 'initech').finally(close);
    const { json } = await plugboard.api('GET', '/integrations?end_user_origin_id=initech');
    const id = json.data.results[0].id;
    fixture = { id, href: `${plugboard.url}/dashboard/development/integrations/${encodeURIComponent(id)}` };
  });

  after(async () => {
    await browser?.close();
    await plugboard?.stop();
  });

  test('an administrator: link, password, a new integration found, managed, deleted; sign out', async () => {
    const { context, page, offsite, close } = await newContext(browser);
    try {
      await welcome(page, await createOperator('ada@ops.example'), 'ada@ops.example');
      assert.equal(new URL(page.url()).pathname, '/dashboard/production', 'production comes first');

      // Meanwhile a customer connects, in a tab of their own.
      await connect(context, 'Umbrella Corp', 'umbrella');

      // The tests' API key is a development one: the environment switch is how to get there.
      await page.bringToFront();
      await page.getByRole('link', { name: `${d('switch-to')} ${d('env-development')}` }).click();
      await heading(page, d('overview-title'));
      assert.equal(new URL(page.url()).pathname, '/dashboard/development');
      await page.getByRole('navigation').getByRole('link', { name: d('nav-integrations') }).click();
      await heading(page, d('integrations-title'));
      await page.getByLabel(d('integrations-search'), { exact: true }).fill('umbrella');
      await page.getByRole('button', { name: d('filter-submit'), exact: true }).click();
      await page.waitForURL(/[?&]q=umbrella/);
      const rows = page.locator('table.list tbody tr');
      assert.equal(await rows.count(), 1, 'only Umbrella matches');
      const cells = await rows.first().locator('th, td').allInnerTexts();
      assert.deepEqual(cells.slice(0, 4), ['Umbrella Corp\numbrella', 'Sandbox', d('status-active'), 'it@umbrella.example']);

      await page.getByRole('link', { name: 'Umbrella Corp', exact: true }).click();
      await heading(page, /^Umbrella Corp/);
      const facts = await page.locator('dl.facts').first().evaluate((dl) =>
        Object.fromEntries([...dl.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])),
      );
      assert.equal(facts[d('col-organization')], 'Umbrella Corp');
      assert.equal(facts[d('field-email')], 'it@umbrella.example');
      assert.equal(facts[d('field-origin-id')], 'umbrella');
      assert.equal(facts[d('field-tool')], 'Sandbox (HRIS)');
      const id = await page.locator('#integration-id').textContent();
      assert.match(id, /^sandbox:/);
      assert.equal(await apiStatus(id), 'ACTIVE');

      // A relink link to send the customer, ready to copy.
      await page.getByRole('button', { name: d('action-relink') }).click();
      const relink = page.getByRole('textbox', { name: d('relink-link') });
      await relink.waitFor();
      assert.match(await relink.inputValue(), new RegExp(`^${plugboard.url}/connect\\?token=`));
      assert.equal(await relink.getAttribute('readonly'), '');
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: plugboard.url });
      const copy = page.locator('[data-copy=relink-url]');
      assert.equal(await copy.textContent(), d('copy'));
      await copy.click();
      await page.locator('[data-copy=relink-url]', { hasText: d('copied') }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await relink.inputValue());

      await page.getByRole('button', { name: d('action-check') }).click();
      await notice(page).filter({ hasText: d('notice-check-scheduled') }).waitFor();

      // Disable and enable: the badge, the notice and the API agree.
      await page.getByRole('button', { name: d('action-disable'), exact: true }).click();
      await notice(page).filter({ hasText: d('notice-disabled') }).waitFor();
      await heading(page, `Umbrella Corp ${d('status-inactive')}`);
      assert.equal(await apiStatus(id), 'INACTIVE');
      await page.getByRole('button', { name: d('action-enable'), exact: true }).click();
      await notice(page).filter({ hasText: d('notice-enabled') }).waitFor();
      await heading(page, `Umbrella Corp ${d('status-active')}`);
      assert.equal(await apiStatus(id), 'ACTIVE');

      // Delete sits behind a disclosure and stays disabled until the name is typed exactly.
      await page.getByText(d('action-delete'), { exact: true }).click();
      const confirm = page.getByLabel(d('delete-type-name'));
      const remove = page.getByRole('button', { name: d('action-delete-confirm') });
      assert.equal(await remove.isDisabled(), true, 'disabled before typing');
      await confirm.fill('Umbrella');
      assert.equal(await remove.isDisabled(), true, 'disabled with part of the name');
      await confirm.fill('Umbrella Corp');
      assert.equal(await remove.isEnabled(), true, 'enabled with the exact name');
      await remove.click();
      await heading(page, d('integrations-title'));
      await notice(page).filter({ hasText: d('notice-deleted') }).waitFor();
      assert.equal(await page.getByRole('link', { name: 'Umbrella Corp' }).count(), 0);
      assert.equal(await apiStatus(id), 404);

      // Signing out: neither Back nor Reload brings a dashboard page back.
      await page.getByRole('button', { name: d('sign-out') }).click();
      await heading(page, d('signin-title'));
      await page.getByText(d('notice-signed-out')).waitFor();
      await page.goBack();
      await heading(page, d('signin-title'));
      await page.reload();
      await heading(page, d('signin-title'));
      assert.equal(await page.getByRole('button', { name: d('sign-out') }).count(), 0);
      assert.deepEqual(offsite(), []);
    } finally {
      await close();
    }
  });

  test('axe-core: sign-in, welcome, overview, list, detail, and the 403 a viewer meets', async () => {
    const admin = await newContext(browser, { bypassCSP: true });
    const viewer = await newContext(browser, { bypassCSP: true });
    try {
      const { page } = admin;
      await page.goto(await createOperator('grace@ops.example'));
      await heading(page, d('welcome-title'));
      await audit(page, 'welcome');
      await page.locator('#password').fill(PASSWORD);
      await page.locator('#confirm').fill(`${PASSWORD}!`);
      await page.getByRole('button', { name: d('welcome-submit') }).click();
      await page.getByRole('alert').filter({ hasText: d('welcome-mismatch') }).waitFor();
      await audit(page, 'welcome, passwords differ');
      await page.locator('#password').fill(PASSWORD);
      await page.locator('#confirm').fill(PASSWORD);
      await page.getByRole('button', { name: d('welcome-submit') }).click();
      await heading(page, d('overview-title'));
      await audit(page, 'overview (production, empty)');
      await page.goto(`${plugboard.url}/dashboard/development`);
      await heading(page, d('overview-title'));
      await audit(page, 'overview (development, with counts and flows)');

      await page.goto(`${plugboard.url}/dashboard/development/integrations`);
      await heading(page, d('integrations-title'));
      await page.getByRole('link', { name: 'Initech', exact: true }).waitFor();
      await audit(page, 'integrations, with rows');
      await page.goto(`${plugboard.url}/dashboard/development/integrations?q=no+such+customer`);
      await page.getByText(d('integrations-none-found')).waitFor();
      await audit(page, 'integrations, nothing matches');

      await page.goto(fixture.href);
      await heading(page, /^Initech/);
      await page.getByRole('button', { name: d('action-relink') }).click();
      await page.getByRole('textbox', { name: d('relink-link') }).waitFor();
      await audit(page, 'integration (admin), relink link shown');

      await page.getByRole('button', { name: d('sign-out') }).click();
      await heading(page, d('signin-title'));
      await audit(page, 'sign-in, signed out');
      await page.getByLabel(d('field-email')).fill('grace@ops.example');
      await page.getByLabel(d('field-password')).fill('not the password');
      await page.getByRole('button', { name: d('signin-submit') }).click();
      await page.getByRole('alert').filter({ hasText: d('signin-wrong') }).waitFor();
      await audit(page, 'sign-in, wrong password');

      await welcome(viewer.page, await createOperator('vera@ops.example', 'viewer'), 'vera@ops.example');
      await viewer.page.goto(fixture.href);
      await heading(viewer.page, /^Initech/);
      const answer = await postDisable(viewer.page);
      assert.equal(answer.status(), 403);
      await heading(viewer.page, d('error-viewer-title'));
      await audit(viewer.page, 'viewer refused (403)');
    } finally {
      await admin.close();
      await viewer.close();
    }
  });

  test('keyboard only: sign in, then reach the integrations and search', async () => {
    // The password is chosen in a context of its own: this test starts signed out.
    const setup = await newContext(browser);
    await welcome(setup.page, await createOperator('kay@ops.example'), 'kay@ops.example').finally(setup.close);
    const { page, close } = await newContext(browser);
    try {
      const { keyboard } = page;
      /**
       * Tabs until `wanted` has focus; every stop on the way must show focus. The limit only
       * ends a lost search: the header grows as the dashboard gains sections.
       */
      async function tabTo(wanted) {
        const seen = [];
        for (let i = 0; i < 40; i += 1) {
          await keyboard.press('Tab');
          const now = await page.evaluate(() => {
            const [element, style] = [document.activeElement, getComputedStyle(document.activeElement)];
            const outline = style.outlineStyle !== 'none' && style.outlineWidth !== '0px';
            const [id, tag, text] = [element.id, element.tagName.toLowerCase(), element.textContent.trim()];
            return { id, tag, text, outline, shadow: style.boxShadow !== 'none', focusVisible: element.matches(':focus-visible') };
          });
          seen.push(now);
          assert.ok(now.outline || now.shadow, `no visible focus on ${JSON.stringify(now)}`);
          assert.equal(now.focusVisible, true, JSON.stringify(now));
          if (wanted(now)) return;
        }
        assert.fail(`never reached the control; focus went to ${JSON.stringify(seen.map((s) => s.id || s.text))}`);
      }

      await page.goto(`${plugboard.url}/dashboard`);
      await heading(page, d('signin-title'));
      await tabTo((f) => f.id === 'email');
      await keyboard.type('kay@ops.example');
      await tabTo((f) => f.id === 'password');
      await keyboard.type(PASSWORD);
      await keyboard.press('Enter');
      await heading(page, d('overview-title'));

      await tabTo((f) => f.tag === 'a' && f.text === d('nav-integrations'));
      await keyboard.press('Enter');
      await heading(page, d('integrations-title'));
      await tabTo((f) => f.id === 'q');
      await keyboard.type('initech');
      await keyboard.press('Enter');
      await page.waitForURL(/[?&]q=initech/);
      // Production has no integrations (the tests' key is development): the search says so.
      await page.getByText(d('integrations-none-found')).waitFor();
      assert.equal(await page.locator('#q').inputValue(), 'initech', 'the search is kept');
    } finally {
      await close();
    }
  });

  test('phone width (390×844): no sideways page scroll; navigation and sign-out visible', async () => {
    const { page, close } = await newContext(browser, { viewport: { width: 390, height: 844 } });
    try {
      /** The page fits 390 px (tables may scroll inside .table-wrap) and the frame shows. */
      async function fits(label) {
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 390, `${label}: the page is ${width} px wide`);
        for (const control of [
          page.getByRole('navigation').getByRole('link', { name: d('nav-overview') }),
          page.getByRole('navigation').getByRole('link', { name: d('nav-integrations') }),
          page.getByRole('button', { name: d('sign-out') }),
        ]) {
          assert.equal(await control.isVisible(), true, `${label}: ${control} visible`);
          const box = await control.boundingBox();
          assert.ok(box.x >= 0 && box.x + box.width <= 390, `${label}: ${control} on screen: ${JSON.stringify(box)}`);
        }
      }

      await welcome(page, await createOperator('pia@ops.example'), 'pia@ops.example');
      await fits('overview');
      await page.goto(`${plugboard.url}/dashboard/development`); // with counts and charts
      await heading(page, d('overview-title'));
      await fits('overview, development');
      await page.goto(`${plugboard.url}/dashboard/development/integrations`);
      await page.getByRole('link', { name: 'Initech', exact: true }).waitFor();
      await fits('integrations');
      await page.goto(fixture.href);
      await heading(page, /^Initech/);
      await fits('integration');
      await page.getByRole('button', { name: d('action-relink') }).click();
      await page.getByRole('textbox', { name: d('relink-link') }).waitFor();
      await fits('integration, relink link shown');
    } finally {
      await close();
    }
  });

  test('a viewer sees the list and an integration, with no actions, and may not post one', async () => {
    const { page, close } = await newContext(browser);
    try {
      await welcome(page, await createOperator('val@ops.example', 'viewer'), 'val@ops.example');
      await page.locator('.who .role').filter({ hasText: d('role-viewer') }).waitFor();
      await page.goto(`${plugboard.url}/dashboard/development/integrations`);
      await page.getByRole('link', { name: 'Initech', exact: true }).click();
      await heading(page, /^Initech/);
      assert.equal(await page.locator('dl.facts dd').first().textContent(), 'Initech');
      assert.equal(await page.getByRole('heading', { name: d('integration-actions') }).count(), 0);
      for (const name of ['action-relink', 'action-check', 'action-disable', 'action-enable']) {
        assert.equal(await page.getByRole('button', { name: d(name) }).count(), 0, name);
      }
      assert.equal(await page.getByText(d('action-delete')).count(), 0);
      assert.equal(await page.locator('main form').count(), 0, 'no form in the page');

      // A crafted form is refused by role, and nothing changes.
      const answer = await postDisable(page);
      assert.equal(answer.status(), 403);
      await heading(page, d('error-viewer-title'));
      assert.equal(await apiStatus(fixture.id), 'ACTIVE');
    } finally {
      await close();
    }
  });
});
