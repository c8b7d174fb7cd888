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
