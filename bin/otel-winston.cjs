#!/usr/bin/env node
'use strict';
// otel-winston tail: a local OTLP receiver that prints traces with their logs.
require('../dist/cjs/cli/main.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
