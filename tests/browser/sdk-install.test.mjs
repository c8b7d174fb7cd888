// `@plugboard/connect` is not on the npm registry: a Plugboard server serves its tarball, and
// `npm install <plugboard>/sdk/plugboard-connect-<version>.tgz` must work as the READMEs say.
// npm runs with a registry address that answers nothing, so the test needs no network (the
// package has no runtime dependencies) and would fail if npm tried to fetch anything else.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

import { REPO, startPlugboard } from './helpers.mjs';

const run = promisify(execFile);
const version = JSON.parse(await readFile(path.join(REPO, 'sdk', 'js', 'package.json'), 'utf8')).version;

describe('npm install from the Plugboard server', { timeout: 180_000 }, () => {
  let plugboard;
  let dir;

  before(async () => {
    plugboard = await startPlugboard();
    dir = await mkdtemp(path.join(os.tmpdir(), 'plugboard-sdk-install-'));
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'acme-app', version: '1.0.0', private: true, type: 'module' }),
    );
  });

  after(async () => {
    await plugboard?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the tarball is served immutable, as application/gzip', async () => {
    const response = await fetch(`${plugboard.url}/sdk/plugboard-connect-${version}.tgz`, {
      headers: { 'accept-encoding': 'gzip, br' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/gzip');
    assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(response.headers.get('content-encoding'), null);
    const served = Buffer.from(await response.arrayBuffer());
    const committed = await readFile(path.join(REPO, 'sdk', 'js', 'pack', `plugboard-connect-${version}.tgz`));
    assert.ok(served.equals(committed), 'the server embeds sdk/js/pack');
  });

  test('npm installs it, and Node imports and requires it', async () => {
    const url = `${plugboard.url}/sdk/plugboard-connect-${version}.tgz`;
    const cache = path.join(dir, '.npm-cache');
    await run(
      'npm',
      [
        'install', url,
        '--no-audit', '--no-fund', '--no-update-notifier',
        // Nothing but the tarball may be fetched: the registry is an address that refuses.
        '--registry', 'http://127.0.0.1:9/',
        '--fetch-retries', '0',
        '--cache', cache,
      ],
      { cwd: dir, timeout: 120_000 },
    );
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
    assert.equal(manifest.dependencies['@plugboard/connect'], url);
    const installed = path.join(dir, 'node_modules', '@plugboard', 'connect');
    assert.equal(JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')).version, version);

    // ESM and CommonJS, by the package's name, from the app's folder.
    await writeFile(
      path.join(dir, 'check.mjs'),
      `import { showConnect, showKomboConnect, ConnectCancelledError } from '@plugboard/connect';
import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('@plugboard/connect');
console.log(JSON.stringify({
  esm: typeof showConnect, alias: showConnect === showKomboConnect,
  error: typeof ConnectCancelledError, cjs: typeof cjs.showConnect,
}));
`,
    );
    const { stdout } = await run(process.execPath, [path.join(dir, 'check.mjs')], { cwd: dir });
    assert.deepEqual(JSON.parse(stdout), { esm: 'function', alias: true, error: 'function', cjs: 'function' });

    // The types come along for TypeScript users.
    assert.match(await readFile(path.join(installed, 'dist', 'index.d.ts'), 'utf8'), /showConnect/);
  });
});
