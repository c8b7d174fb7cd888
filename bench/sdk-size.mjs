// The front-end SDK's size: every built file, raw and gzipped (level 9), against the budget of
// 1,024 bytes minified and gzipped. Run with `bench/run sdk` (it builds the SDK first).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 1024;
const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'sdk', 'js', 'dist');
let over = false;
console.log(`${'file'.padEnd(28)} ${'minified'.padStart(10)} ${'gzipped'.padStart(10)}`);
for (const file of readdirSync(dist).filter((f) => /\.(m?js|cjs)$/.test(f)).sort()) {
  const bytes = readFileSync(path.join(dist, file));
  const gzipped = gzipSync(bytes, { level: 9 }).length;
  over ||= gzipped > BUDGET && file !== 'index.cjs';
  console.log(`${file.padEnd(28)} ${String(bytes.length).padStart(10)} ${String(gzipped).padStart(10)}`);
}
console.log(`budget: ${BUDGET} bytes gzipped for the browser builds (index.mjs, plugboard-connect.min.js)`);
process.exitCode = over ? 1 : 0;
