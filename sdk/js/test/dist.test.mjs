// The built files are committed (Plugboard serves the script-tag bundle without needing Node
// to build the server): they must be exactly what a fresh build makes from the source.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

test('dist/ is a fresh build of src/', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'plugboard-sdk-'));
  try {
    execFileSync(process.execPath, [path.join(root, 'build.mjs'), '--out', out], { stdio: 'inherit' });
    const committed = readdirSync(path.join(root, 'dist')).sort();
    assert.deepEqual(readdirSync(out).sort(), committed);
    for (const file of committed) {
      assert.ok(
        readFileSync(path.join(out, file)).equals(readFileSync(path.join(root, 'dist', file))),
        `dist/${file} is stale: run \`npm run build\` in sdk/js and commit dist/`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

// The npm tarball Plugboard serves (/sdk/plugboard-connect-<version>.tgz) is committed too: its
// files must be what `tarball.mjs` packs now (compared uncompressed: gzip's bytes may differ
// between zlib versions, the archive's may not).
test('pack/ is a fresh pack of package.json, README.md and dist/', async () => {
  const { gunzipSync } = await import('node:zlib');
  const { tar } = await import(path.join(root, 'tarball.mjs'));
  const { version, bytes } = tar();
  const committed = readdirSync(path.join(root, 'pack'));
  assert.deepEqual(committed, [`plugboard-connect-${version}.tgz`], 'run `node tarball.mjs` in sdk/js and commit pack/');
  const packed = gunzipSync(readFileSync(path.join(root, 'pack', committed[0])));
  assert.ok(packed.equals(bytes), 'pack/ is stale: run `node tarball.mjs` in sdk/js and commit pack/');
});
