/**
 * Enrichment: what the record gets from the context captured at the log call
 * rather than from `info`. The trace link is the captured OpenTelemetry
 * context itself, which the record carries as its `context`; the request
 * context (request id, user, route, ...) and the call site become
 * attributes, here.
 */
import {
  ATTR_CODE_COLUMN_NUMBER,
  ATTR_CODE_FILE_PATH,
  ATTR_CODE_FUNCTION_NAME,
  ATTR_CODE_LINE_NUMBER,
} from '@opentelemetry/semantic-conventions';
import type { CallSite } from '../context/call-capture.js';
import { forEachRequestAttribute } from '../context/request-attributes.js';
import type { RequestContext } from '../context/request-context.js';
import { toAnyValue, type AnyValue, type ValueLimits } from '../mapping/any-value.js';
import { addAttribute, type AttributeSink } from '../mapping/attribute-sink.js';

/**
 * The converted attributes of the last request context seen, for the
 * records that follow it: a request's records come together, and its
 * context is a frozen snapshot, so they are converted once per request.
 * Only a context of plain values (no lists) is kept.
 */
let lastRequest: Readonly<RequestContext> | undefined;
let lastLimits: ValueLimits | undefined;
let lastAttributes: Array<readonly [string, AnyValue]> = [];

/** Adds where the app made the call (`code.*`, stable semantic conventions) to `sink`. */
export function addCallSiteAttributes(sink: AttributeSink, site: CallSite): void {
  if (site.functionName !== undefined)
    addAttribute(sink, ATTR_CODE_FUNCTION_NAME, site.functionName);
  if (site.filePath !== undefined) addAttribute(sink, ATTR_CODE_FILE_PATH, site.filePath);
  if (site.line !== undefined) addAttribute(sink, ATTR_CODE_LINE_NUMBER, site.line);
  if (site.column !== undefined) addAttribute(sink, ATTR_CODE_COLUMN_NUMBER, site.column);
}

/** Adds the attributes of the request context captured at the call to `sink`. */
export function addRequestAttributes(sink: AttributeSink, request: Readonly<RequestContext>): void {
  if (request !== lastRequest || sink.limits !== lastLimits) {
    const converted: Array<readonly [string, AnyValue]> = [];
    let plain = true;
    forEachRequestAttribute(request, (key, value) => {
      if (typeof value === 'object') plain = false;
      converted.push([key, toAnyValue(value, 1, sink) ?? null]);
    });
    lastRequest = plain ? request : undefined;
    lastLimits = sink.limits;
    lastAttributes = converted;
  }
  for (const [key, value] of lastAttributes) addAttribute(sink, key, value);
}
