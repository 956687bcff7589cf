/**
 * What building one record costs in the transport (`buildLogRecord`: the
 * mapping of `info` and the enrichment from the captured call), per shape of
 * record, best of five passes of 500,000 records. Run it on its own:
 * `node --import tsx bench/build-record.bench.ts`. It prints one line per
 * shape, in ns per record, and exists to decide questions such as whether
 * reusing the attribute sink between records pays (it did not: see
 * `src/mapping/attribute-sink.ts`).
 */
import { ROOT_CONTEXT, SeverityNumber } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { CapturedCall } from '../src/context/call-capture.js';
import type { RequestContext } from '../src/context/request-context.js';
import { buildLogRecord, type RecordSettings } from '../src/transport/build-record.js';

const PASSES = 5;
const RECORDS = 500_000;

const limits = {
  maxDepth: 8,
  maxCollectionSize: 1024,
  maxStringLength: 1_048_576,
  maxValuesPerRecord: 20_000,
};
const settings: RecordSettings = {
  limits,
  attributeLimits: limits,
  attributeCountLimit: 128,
  includeRequestContext: true,
  includeCodeAttributes: false,
};
const severity = { number: SeverityNumber.INFO, text: 'info', crash: false };
const request: Readonly<RequestContext> = Object.freeze({
  requestId: 'req-7f3a',
  userId: 'u-42',
  route: '/orders',
});
const error = new Error('card declined');

interface Shape {
  readonly name: string;
  info(): Record<string, unknown>;
  readonly call: CapturedCall;
}

const SHAPES: Shape[] = [
  {
    name: 'message only',
    info: () => ({ level: 'info', message: 'order placed' }),
    call: new CapturedCall(ROOT_CONTEXT, undefined, Date.now(), undefined, undefined),
  },
  {
    name: "the benchmark's record (scenario.ts, 5 metadata fields, in a request)",
    info: () => ({
      level: 'info',
      message: 'order placed',
      orderId: 'o-17',
      userId: 'u-42',
      items: 3,
      total: 99.5,
      cart: { skus: ['A1', 'B2', 'C3'], coupon: null },
    }),
    call: new CapturedCall(ROOT_CONTEXT, request, Date.now(), undefined, undefined),
  },
  {
    name: 'an error with metadata, in a request',
    info: () => ({ level: 'error', message: 'payment failed', orderId: 'o-17', error }),
    call: new CapturedCall(ROOT_CONTEXT, request, Date.now(), undefined, undefined),
  },
];

let sink = 0;
for (const shape of SHAPES) {
  const infos = Array.from({ length: 1024 }, () => shape.info());
  let best = Infinity;
  for (let pass = 0; pass < PASSES; pass++) {
    const started = performance.now();
    for (let i = 0; i < RECORDS; i++) {
      const record = buildLogRecord(infos[i & 1023]!, shape.call, severity, settings);
      if (record.attributes !== undefined) sink += 1;
    }
    best = Math.min(best, performance.now() - started);
  }
  console.log(`${shape.name}: ${((best * 1e6) / RECORDS).toFixed(0)} ns per record`);
}
if (sink < 0) console.log(sink);
