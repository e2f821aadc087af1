// The release targets, from package.json's napi.targets: each Rust triple, its napi-rs platform
// name and the npm package that carries its binary. Shared by the release scripts; also a CLI:
//   node scripts/release/targets.mjs platform <triple>   -> linux-arm64-gnu
//   node scripts/release/targets.mjs list                -> one "<triple> <platform> <package>" a line
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { platformOfTriple } = createRequire(import.meta.url)('../../lib/primitives/native-error.js');

export const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** [{ triple, platform, name, dir }] for every napi target of the package. */
export function targets(pkg = readJson(join(root, 'package.json'))) {
  return pkg.napi.targets.map((triple) => {
    const platform = platformOfTriple(triple);
    if (!platform) throw new Error(`napi target ${triple} has no platform package name`);
    return { triple, platform, name: `${pkg.name}-${platform}`, dir: join(root, 'npm', platform) };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, triple] = process.argv.slice(2);
  if (command === 'list') {
    for (const t of targets()) console.log(`${t.triple} ${t.platform} ${t.name}`);
  } else if (command === 'platform' && triple) {
    const found = targets().find((t) => t.triple === triple);
    if (!found) {
      console.error(`${triple} is not in package.json's napi.targets`);
      process.exit(1);
    }
    console.log(found.platform);
  } else {
    console.error('usage: targets.mjs list | platform <triple>');
    process.exit(2);
  }
}
