import type { AttributeValue } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { RequestContext } from './request-context.js';

/**
 * The attribute that carries the request id. OpenTelemetry has no semantic
 * convention for it; this is the one name this package uses everywhere.
 */
export const ATTR_REQUEST_ID = 'http.request.id';
/** The authenticated user: `user.id`, a semantic convention still in development (so not in the stable package). */
export const ATTR_USER_ID = 'user.id';

/** Request context fields and the attribute each becomes. */
export const REQUEST_CONTEXT_ATTRIBUTES = [
  ['requestId', ATTR_REQUEST_ID],
  ['userId', ATTR_USER_ID],
  ['route', ATTR_HTTP_ROUTE],
  ['method', ATTR_HTTP_REQUEST_METHOD],
  ['path', ATTR_URL_PATH],
  ['clientAddress', ATTR_CLIENT_ADDRESS],
] as const satisfies ReadonlyArray<readonly [keyof RequestContext, string]>;

function isAttributeValue(value: unknown): value is AttributeValue {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || Array.isArray(value);
}

/**
 * Calls `add(key, value)` for every attribute of a request context: free-form
 * attributes first, then the named fields, which win on a clash. Absent fields
 * are skipped; numbers are kept as they are.
 */
export function forEachRequestAttribute(
  ctx: Readonly<RequestContext>,
  add: (key: string, value: AttributeValue) => void,
): void {
  const free = ctx.attributes;
  if (free !== undefined && free !== null) {
    for (const key of Object.keys(free)) {
      const value = free[key];
      if (isAttributeValue(value)) add(key, value);
    }
  }
  for (const [field, key] of REQUEST_CONTEXT_ATTRIBUTES) {
    const value: unknown = ctx[field];
    if (value !== undefined && value !== null && value !== '') {
      add(key, typeof value === 'string' || typeof value === 'number' ? value : String(value));
    }
  }
}

/** The attributes of a request context as a new object. */
export function requestContextAttributes(
  ctx: Readonly<RequestContext>,
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  forEachRequestAttribute(ctx, (key, value) => {
    out[key] = value;
  });
  return out;
}
