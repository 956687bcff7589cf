'use strict';
// The ESM loader hook of import-in-the-middle, so that an ES module app is instrumented too:
// installed once per process, in the main thread (worker threads inherit --require and
// --import), from @opentelemetry/instrumentation's own copy, whose Hook() registrations it
// must see.
//
// It runs off-thread (module.register), and once it is in, every module Node loads, require()
// included, makes a round trip to its thread. The preload therefore installs it after
// OpenTelemetry has started, so that the few hundred modules of the SDK load without it (about
// 0.1 s of a hello-world start here), and before the app loads anything. Its in-thread twin
// (module.registerHooks, import-in-the-middle/register-hooks.mjs) is not used: on Node 24.21 it
// fails every require() of a built-in module without the node: prefix.
const { createRequire, register } = require('node:module');
const { pathToFileURL } = require('node:url');
const { isMainThread } = require('node:worker_threads');

const INSTALLED = Symbol.for('otel-winston.esm-hook.v1');

function installLoaderHooks() {
  if (!isMainThread || globalThis[INSTALLED] === true || typeof register !== 'function') return;
  globalThis[INSTALLED] = true;
  const fromInstrumentation = createRequire(require.resolve('@opentelemetry/instrumentation'));
  register(
    pathToFileURL(fromInstrumentation.resolve('import-in-the-middle/hook.mjs')).href,
    pathToFileURL(__filename),
  );
}

module.exports = { installLoaderHooks };
