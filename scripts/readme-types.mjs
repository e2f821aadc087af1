// Type-checks the README's JavaScript and TypeScript code blocks with `tsc --strict` against the
// package's own .d.ts files, so that what a reader copies compiles as written. Each block is a
// module of its own; a ```js block is checked as JavaScript (checkJs), a ```ts block as
// TypeScript. Exits non-zero (with the README line of each error) when one does not compile, or
// when the README has no such block at all.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8').split('\n');

const EXTENSIONS = { js: 'js', mjs: 'js', javascript: 'js', ts: 'ts', typescript: 'ts' };
const blocks = [];
for (let i = 0; i < readme.length; i++) {
  const open = /^```(\w+)\s*$/.exec(readme[i]);
  if (open === null) continue;
  let end = i + 1;
  while (end < readme.length && !readme[end].startsWith('```')) end++;
  const ext = EXTENSIONS[open[1]];
  if (ext !== undefined) blocks.push({ line: i + 2, ext, code: readme.slice(i + 1, end).join('\n') });
  i = end;
}
if (blocks.length === 0) {
  console.error('readme-types: README.md has no js/ts code block to check');
  process.exit(1);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'readme-types-'));
try {
  const files = blocks.map((block, n) => {
    const file = path.join(dir, `block-${n}.${block.ext}`);
    // `export {}` keeps each block a module of its own, whatever it declares.
    writeFileSync(file, `${block.code}\nexport {};\n`);
    return { ...block, file };
  });
  const at = (name) => [path.join(root, name)];
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        allowJs: true,
        checkJs: true,
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'bundler',
        lib: ['ES2022'],
        types: ['node'],
        typeRoots: [path.join(root, 'node_modules', '@types')],
        skipLibCheck: false,
        paths: {
          'daloy-ws-native': at('index.d.ts'),
          'daloy-ws-native/websocket': at('index.d.ts'),
          'daloy-ws-native/node': at('node.d.ts'),
          'daloy-ws-native/bun': at('bun.d.ts'),
          'daloy-ws-native/deno': at('deno.d.ts'),
          'daloy-ws-native/redis': at('redis.d.ts'),
          'daloy-ws-native/ws': at('ws.d.ts'),
        },
      },
      files: files.map((f) => f.file),
    }),
  );
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { encoding: 'utf8' });
  if (result.status !== 0) {
    // block-N.ext(LINE,COL): ... becomes README.md:LINE: ...
    const report = `${result.stdout}${result.stderr}`.replace(/^.*block-(\d+)\.\w+\((\d+),(\d+)\)/gm, (_, n, line, col) => {
      return `README.md:${files[Number(n)].line + Number(line) - 1}:${col}`;
    });
    console.error(report.trim());
    console.error(`readme-types: ${blocks.length} block(s) checked, tsc --strict failed`);
    process.exit(1);
  }
  console.log(`readme-types: ${blocks.length} README code block(s) compile under tsc --strict`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
