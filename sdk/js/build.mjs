// Builds the SDK: ESM and CJS for bundlers and Node, a script-tag bundle with the global
// `PlugboardConnect` (committed, and served by Plugboard at /sdk/…), and type declarations.
// `node build.mjs --out DIR` builds elsewhere (the test that compares with the committed dist).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf('--out');
const out = flag === -1 ? path.join(here, 'dist') : path.resolve(process.argv[flag + 1]);
rmSync(out, { recursive: true, force: true });

const common = {
  entryPoints: [path.join(here, 'src/index.ts')],
  bundle: true,
  minify: true,
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
  // Module code is strict already; the directive would only cost bytes.
  tsconfigRaw: { compilerOptions: { alwaysStrict: false } },
};
await build({ ...common, format: 'esm', outfile: path.join(out, 'index.mjs') });
await build({ ...common, format: 'cjs', outfile: path.join(out, 'index.cjs') });
await build({
  ...common,
  entryPoints: [path.join(here, 'src/global.ts')],
  format: 'iife',
  outfile: path.join(out, 'plugboard-connect.min.js'),
});
execFileSync(
  process.execPath,
  [path.join(here, 'node_modules/typescript/bin/tsc'), '-p', path.join(here, 'tsconfig.json'), '--outDir', out],
  { stdio: 'inherit' },
);
