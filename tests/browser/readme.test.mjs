// The README's "First steps", run as written: its shell blocks, in order, against a started
// server, with the browser doing what the text tells a person to do between them (open the
// link in a tab of its own, choose Sandbox, copy the activation token from the last page).
// Only two things are substituted: the built binary for `cargo run --release -q --`, and the
// test server's address for http://127.0.0.1:8080. A README that drifts from the product
// fails here.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

import {
  BINARY,
  REPO,
  expectSuccess,
  launchBrowser,
  newContext,
  startPlugboard,
  submitSandboxKey,
  toCredentials,
} from './helpers.mjs';

const README_ADDRESS = 'http://127.0.0.1:8080';

/** The ```sh blocks of the README's "First steps" section, in order. */
function firstSteps() {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## First steps\n');
  assert.ok(start !== -1, 'README.md has a "First steps" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]);
  return { section, blocks };
}

/** A README output comment (`# {…}` lines) as a pattern: "…" stands for anything. */
function expectedOutput(block, address) {
  const comment = block
    .split('\n')
    .filter((line) => line.startsWith('# '))
    .map((line) => line.slice(2).trim())
    .join('');
  assert.ok(comment, `the block shows its output:\n${block}`);
  const pattern = comment
    .replaceAll(README_ADDRESS, address)
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*?');
  return new RegExp(`^${pattern}$`);
}

describe('README first steps', { timeout: 180_000 }, () => {
  let plugboard;
  let browser;

  before(async () => {
    [plugboard, browser] = await Promise.all([startPlugboard(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await plugboard?.stop();
  });

  /** Runs a README block in bash with `variables` set; resolves to its stdout. */
  async function run(block, variables = {}) {
    const script = block
      .replaceAll('cargo run --release -q --', JSON.stringify(BINARY))
      .replaceAll(README_ADDRESS, plugboard.url);
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      env: { ...plugboard.env, ...variables },
      cwd: REPO,
    });
    return stdout;
  }

  test('work with curl and a browser, as written', async () => {
    const { section, blocks } = firstSteps();
    assert.equal(
      blocks.length,
      4,
      `four shell blocks: the key, the link, the exchange, the passthrough call\n${section}`,
    );
    const [keyBlock, linkBlock, exchangeBlock, passthroughBlock] = blocks;

    // 1. The API key, captured in $KEY.
    assert.match(keyBlock, /^KEY=\$\(/m);
    const key = (await run(`${keyBlock}\nprintf '%s' "$KEY"`)).trim();
    assert.match(key, /^\S{20,}$/, `KEY=${key}`);

    // 2. The link.
    const created = (await run(linkBlock, { KEY: key })).trim();
    assert.match(created, expectedOutput(linkBlock, plugboard.url));
    const link = JSON.parse(created).data.link;

    // 3. As the text says: open it in a tab of its own, choose Sandbox, any key connects, and the
    //    last page shows the activation token.
    assert.match(section, /open the link in a browser tab of its own and choose \*\*Sandbox\*\*/);
    assert.match(section, /shows it/);
    const { page, close } = await newContext(browser);
    let token;
    try {
      await page.goto(link);
      await toCredentials(page);
      await submitSandboxKey(page, 'any-key');
      await expectSuccess(page);
      const shown = page.locator('[data-token]');
      await shown.waitFor();
      token = await shown.getAttribute('data-token');
      assert.equal((await shown.textContent()).trim(), token, 'the token is on the page to copy');
    } finally {
      await close();
    }

    // 4. The exchange, with the copied token in place of the placeholder.
    assert.match(exchangeBlock, /^TOKEN=\S+$/m);
    const exchange = exchangeBlock.replace(/^TOKEN=\S+$/m, `TOKEN=${token}`);
    const integration = (await run(exchange, { KEY: key })).trim();
    assert.match(integration, expectedOutput(exchangeBlock, plugboard.url));

    // 5. The passthrough call, with the integration's id in place of the placeholder.
    assert.match(passthroughBlock, /^INTEGRATION=\S+$/m);
    const id = JSON.parse(integration).data.id;
    const call = passthroughBlock.replace(/^INTEGRATION=\S+$/m, `INTEGRATION=${id}`);
    const employees = (await run(call, { KEY: key })).trim();
    assert.match(employees, expectedOutput(passthroughBlock, plugboard.url));
  });
});
