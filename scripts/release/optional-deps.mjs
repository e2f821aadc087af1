// Writes the main package's optionalDependencies: every platform package, at exactly the
// package's version. Run at publish time (and by the install proof before it packs), not kept
// in the repository: the platform packages of an unreleased version exist on no registry, and a
// listed-but-unpublished name would leave package-lock.json to depend on what the registry holds.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, root, targets } from './targets.mjs';

const file = join(root, 'package.json');
const pkg = readJson(file);
pkg.optionalDependencies = Object.fromEntries(targets(pkg).map((t) => [t.name, pkg.version]));
writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`optionalDependencies of ${pkg.name}@${pkg.version}: ${Object.keys(pkg.optionalDependencies).join(', ')}`);
