// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with type declarations.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
}
// Each output gets its own `requireHere` (see src/telemetry/require-here.ts).
writeFileSync(
  'dist/cjs/telemetry/require-here.js',
  "'use strict';\nObject.defineProperty(exports, '__esModule', { value: true });\nexports.requireHere = require;\n",
);
writeFileSync(
  'dist/esm/telemetry/require-here.js',
  "import { createRequire } from 'node:module';\nexport const requireHere = createRequire(import.meta.url);\n",
);
// Each half says which module system it is, whatever the root package.json says.
mkdirSync('dist/esm', { recursive: true });
writeFileSync('dist/esm/package.json', '{ "type": "module" }\n');
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
