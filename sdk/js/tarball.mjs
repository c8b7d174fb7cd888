// Packs the SDK as npm would (`npm pack`): a gzipped tar of package.json, README.md and dist/
// under `package/`. Plugboard serves it at /sdk/plugboard-connect-<version>.tgz, so that
// `npm install https://<plugboard>/sdk/plugboard-connect-<version>.tgz` works without a registry.
// The tarball is committed under pack/ (the server embeds it without Node, like dist/) and is
// reproducible: sorted entries, fixed times, owners and modes, no extra dependencies.
// `node tarball.mjs --out DIR` packs elsewhere (the test that compares with the committed pack).
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf('--out');
const out = flag === -1 ? path.join(here, 'pack') : path.resolve(process.argv[flag + 1]);

// npm's own fixed time for packed files (1985-10-26T08:15:00Z), so a pack does not depend on
// when or where it was made.
const MTIME = 499162500;

/** The files npm would pack: package.json, README.md and the `files` of package.json. */
function packedFiles(pkg) {
  const files = ['package.json', 'README.md'];
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(here, dir), { withFileTypes: true })) {
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else files.push(relative);
    }
  };
  for (const dir of pkg.files) walk(dir);
  return files.sort();
}

/** `value` in octal, zero-padded to `width - 1` digits and NUL-terminated. */
function octal(value, width) {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header block for a regular file. */
function header(name, size) {
  if (Buffer.byteLength(name) > 100) throw new Error(`${name}: name longer than 100 bytes`);
  const block = Buffer.alloc(512);
  const put = (text, offset) => block.write(text, offset, 'latin1');
  put(name, 0);
  put(octal(0o644, 8), 100); // mode
  put(octal(0, 8), 108); // uid
  put(octal(0, 8), 116); // gid
  put(octal(size, 12), 124);
  put(octal(MTIME, 12), 136);
  put('        ', 148); // checksum, counted as spaces
  put('0', 156); // a regular file
  put('ustar\0', 257);
  put('00', 263);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

/** The uncompressed tar of the package (exported for the staleness test). */
export function tar() {
  const pkg = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
  const blocks = [];
  for (const file of packedFiles(pkg)) {
    const content = readFileSync(path.join(here, file));
    blocks.push(header(`package/${file}`, content.length), content);
    blocks.push(Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024)); // the end of the archive
  return { version: pkg.version, bytes: Buffer.concat(blocks) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { version, bytes } = tar();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // gzip's header carries no name and no time (Node writes mtime 0).
  writeFileSync(path.join(out, `plugboard-connect-${version}.tgz`), gzipSync(bytes, { level: 9 }));
}
