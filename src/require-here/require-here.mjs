// `require`, resolving from this package: see require-here.d.ts.
import { createRequire } from 'node:module';

export const requireHere = createRequire(import.meta.url);
