import { createRequire } from 'node:module';

/**
 * `require`, resolving from this package, in both builds: the build writes
 * each output's own version of this file (CommonJS: its `require`; ESM:
 * `createRequire(import.meta.url)`). This source version, used when the
 * sources run directly (tests), resolves from the working directory.
 *
 * It lets `startTelemetry()` load the Node SDK only when it is called, so
 * importing `otel-winston` for its transport does not load the SDK.
 */
export const requireHere: NodeJS.Require = createRequire(`${process.cwd()}/`);
