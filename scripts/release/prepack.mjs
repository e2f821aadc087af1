// Runs before every `npm pack` and `npm publish` of the main package and of each npm/<platform>
// package (their `prepack` script), and refuses to pack what a user could not run:
// - main package: binding.js and the types present, LICENSE present, no .node file among the files
//   (binaries live only in the platform packages), one npm/<platform> package per napi target at
//   the same version, and optionalDependencies that name exactly those packages at that version
//   (required when publishing: `node scripts/release/optional-deps.mjs` writes them);
// - platform package: exactly one .node file, the one its `main` names, the root's version;
//   LICENSE is copied in from the repository root.
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readJson, root, targets } from './targets.mjs';

const problems = [];
const refuse = (message) => problems.push(message);

function nodeFilesUnder(dir) {
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) return dir.endsWith('.node') ? [dir] : [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? nodeFilesUnder(join(dir, entry.name)) : entry.name.endsWith('.node') ? [join(dir, entry.name)] : [],
  );
}

function checkMain(pkg) {
  for (const file of ['binding.js', 'binding.d.ts', pkg.types, 'LICENSE']) {
    if (!existsSync(join(root, file))) refuse(`${file} is missing${file.startsWith('binding') ? ': run `npm run build` first' : ''}`);
  }
  const loader = existsSync(join(root, 'binding.js')) ? readFileSync(join(root, 'binding.js'), 'utf8') : '';
  if (loader && !loader.includes(`require('${pkg.name}-`)) refuse(`binding.js was not generated for ${pkg.name}: run \`npm run build\``);
  // The generated loader checks the platform package's version against the one it was built at.
  if (loader && !loader.includes(`expected ${pkg.version} but got`)) refuse(`binding.js was generated for another version than ${pkg.version}: run \`npm run build\``);
  for (const entry of pkg.files) {
    if (/\.node$|\*/.test(entry)) refuse(`"files" entry ${entry} could pack a .node binary; binaries ship in npm/<platform>/ only`);
    for (const binary of nodeFilesUnder(join(root, entry))) refuse(`${binary} would be packed; binaries ship in npm/<platform>/ only`);
  }
  const expected = new Map(targets(pkg).map((t) => [t.name, t.dir]));
  for (const [name, dir] of expected) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) { refuse(`${file} is missing: run \`npx napi create-npm-dirs\``); continue; }
    const platformPkg = readJson(file);
    if (platformPkg.name !== name) refuse(`${file} names ${platformPkg.name}, expected ${name}`);
    if (platformPkg.version !== pkg.version) refuse(`${file} is at ${platformPkg.version}, the package at ${pkg.version}: run \`npx napi version\``);
  }
  const optional = pkg.optionalDependencies;
  if (optional) {
    for (const name of expected.keys()) {
      if (optional[name] !== pkg.version) refuse(`optionalDependencies.${name} is ${optional[name] ?? 'absent'}, expected exactly ${pkg.version}`);
    }
    for (const name of Object.keys(optional)) if (!expected.has(name)) refuse(`optionalDependencies.${name} is not a napi target's package`);
  } else if (process.env.npm_command === 'publish') {
    refuse('optionalDependencies are missing: publishing without them leaves every install without a binary (run `node scripts/release/optional-deps.mjs`)');
  }
}

function checkPlatform(dir, pkg) {
  const rootPkg = readJson(join(root, 'package.json'));
  if (pkg.version !== rootPkg.version) refuse(`${pkg.name} is at ${pkg.version}, ${rootPkg.name} at ${rootPkg.version}`);
  const binaries = readdirSync(dir).filter((name) => name.endsWith('.node'));
  if (binaries.length !== 1 || binaries[0] !== pkg.main) {
    refuse(`${dir} must hold exactly one binary, ${pkg.main}; it holds ${binaries.length ? binaries.join(', ') : 'none'}`);
  }
  if (JSON.stringify(pkg.files) !== JSON.stringify([pkg.main])) refuse(`"files" of ${pkg.name} must list ${pkg.main} alone`);
  copyFileSync(join(root, 'LICENSE'), join(dir, 'LICENSE'));
}

const dir = process.cwd();
const pkg = readJson(join(dir, 'package.json'));
if (resolve(dir) === root) checkMain(pkg);
else if (pkg.os && pkg.cpu) checkPlatform(dir, pkg);
else refuse(`${dir} is neither the package root nor an npm/<platform> package`);

if (problems.length) {
  console.error(`prepack: refusing to pack ${pkg.name}@${pkg.version}:\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
