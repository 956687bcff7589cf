// `require`, resolving from this package: see require-here.d.ts.
'use strict';

exports.requireHere = require;
