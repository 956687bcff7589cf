'use strict';
// The ESM loader hook of import-in-the-middle, so that ES modules are instrumented too: installed
// once per process, in the main thread (worker threads inherit --require and --import), from
// @opentelemetry/instrumentation's own copy, whose Hook() registrations it must see.
//
// It runs off-thread (module.register): installing it starts that thread and loads the hook
// there, about 0.15 s here, and once it is in, every module Node loads, require() included, makes
// a round trip to it. So:
//
//   entry is an ES module, or unknown (.mjs, .js under "type": "module", .ts, -e)
//       └─▶ installed now, after the SDK's own modules have loaded;
//   entry is CommonJS (.cjs, .js without "type": "module")
//       └─▶ installed at the app's first import (a resolve hook in the app's thread,
//           module.registerHooks, that sees the "import" condition), before the imported
//           module loads; a CommonJS app that never imports pays nothing.
//
// Its in-thread twin (import-in-the-middle/register-hooks.mjs) is not used: on Node 24.21 it
// fails every require() of a built-in module without the node: prefix.
const nodeModule = require('node:module');
const { existsSync, readFileSync } = require('node:fs');
const { dirname, extname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { isMainThread } = require('node:worker_threads');

const INSTALLED = Symbol.for('otel-winston.esm-hook.v1');

function installNow() {
  if (globalThis[INSTALLED] === true) return;
  globalThis[INSTALLED] = true;
  try {
    const fromInstrumentation = nodeModule.createRequire(
      require.resolve('@opentelemetry/instrumentation'),
    );
    nodeModule.register(
      pathToFileURL(fromInstrumentation.resolve('import-in-the-middle/hook.mjs')).href,
      pathToFileURL(__filename),
    );
  } catch (error) {
    // Never the app's failure: ES modules then go uninstrumented, and the app is told why.
    process.emitWarning(
      `ES modules will not be instrumented: the ESM loader hook could not be installed: ${error instanceof Error ? error.message : String(error)}`,
      { type: 'OtelWinstonWarning', code: 'OTW011' },
    );
  }
}

/**
 * Whether a resolution is an import: its conditions hold "import". They are an array, except
 * for require() on Node 22.15 to 22.18 and 24.0 to 24.4, which pass a Set (nodejs/node#59003).
 */
function isImport(conditions) {
  if (Array.isArray(conditions)) return conditions.includes('import');
  return conditions instanceof Set && conditions.has('import');
}

/** Whether `file` is CommonJS by Node's rules: .cjs, or .js (or no extension) outside "type": "module". */
function isCommonJs(file) {
  const ext = extname(file);
  if (ext === '.cjs') return true;
  if (ext !== '.js' && ext !== '') return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return JSON.parse(readFileSync(manifest, 'utf8')).type !== 'module';
      } catch {
        return false;
      }
    }
    if (dirname(dir) === dir) return true;
  }
}

function installLoaderHooks() {
  if (!isMainThread || globalThis[INSTALLED] === true || typeof nodeModule.register !== 'function')
    return;
  const entry = process.argv[1];
  if (entry === undefined || typeof nodeModule.registerHooks !== 'function' || !isCommonJs(entry)) {
    installNow();
    return;
  }
  // Left in place once it has installed the loader hook: then it costs one check per resolution.
  nodeModule.registerHooks({
    resolve(specifier, context, next) {
      if (globalThis[INSTALLED] !== true && isImport(context?.conditions)) installNow();
      return next(specifier, context);
    },
  });
}

module.exports = { installLoaderHooks, isImport };
