/**
 * `require`, resolving from this package (`#require-here`). It lets
 * `startTelemetry()` load the Node SDK, the exporters and `jose` only when
 * they are used, synchronously, and as this package's own dependencies
 * (which npm may have installed under `node_modules/otel-winston/`), so
 * importing `otel-winston` for its transport loads none of them.
 *
 * The import map of each package scope picks the file for its module system:
 *
 * | scope                                  | `#require-here`            | is                                   |
 * | -------------------------------------- | -------------------------- | ------------------------------------ |
 * | `package.json` (the sources, in tests) | `src/require-here/*.{mjs,cjs}` | by the `import` / `require` condition |
 * | `dist/esm/package.json`                | `dist/esm/require-here.mjs` | `createRequire(import.meta.url)`    |
 * | `dist/cjs/package.json`                | `dist/cjs/require-here.cjs` | the module's own `require`          |
 *
 * The two files are not compiled: `scripts/build.mjs` copies them into the
 * builds and writes the builds' `package.json` files.
 */
export declare const requireHere: NodeJS.Require;
