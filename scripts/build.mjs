// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with type declarations.
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
}
// Each half says which module system it is, whatever the root package.json says,
// and maps `#require-here` to its own copy (see src/require-here/require-here.d.ts).
for (const [half, type, extension] of [
  ['esm', 'module', 'mjs'],
  ['cjs', 'commonjs', 'cjs'],
]) {
  const file = `require-here.${extension}`;
  copyFileSync(`src/require-here/${file}`, `dist/${half}/${file}`);
  const scope = { type, imports: { '#require-here': `./${file}` } };
  writeFileSync(`dist/${half}/package.json`, `${JSON.stringify(scope, null, 2)}\n`);
}
