import { AsyncLocalStorage } from 'node:async_hooks';
import type { AttributeValue } from '@opentelemetry/api';
import { OtelWinstonError } from '../errors.js';
import type { IdentityResult } from './identity-result.js';
import { describeValue, warn } from '../warnings.js';
import { REQUEST_CONTEXT_STORE, REQUEST_SCOPE } from '../symbols.js';

/**
 * What is known about the request being served. Every record emitted while it
 * is active carries these fields as attributes (see `requestContextAttributes` in
 * request-attributes.ts for their names).
 */
export interface RequestContext {
  /** Correlation id of the request, exported as `http.request.id`. */
  readonly requestId?: string;
  /** The authenticated user, exported as `user.id`. */
  readonly userId?: string;
  /** The matched route template, such as `/users/:id`, exported as `http.route`. */
  readonly route?: string;
  /** The HTTP method, exported as `http.request.method`. */
  readonly method?: string;
  /** The path of the request URL, exported as `url.path`. */
  readonly path?: string;
  /** The address of the client, exported as `client.address`. */
  readonly clientAddress?: string;
  /** Free-form attributes, exported under their own keys. */
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
  /**
   * How the request's bearer token was verified, when the request-context
   * middleware verifies tokens: `{ verified: true, userId, attributes }` or
   * `{ verified: false, reason }`. For the app's authorization decisions; it is
   * not exported as an attribute (the user is, as `user.id`).
   */
  readonly identity?: IdentityResult;
}

/** The mutable cell an async scope shares; its `current` is an immutable snapshot. */
interface RequestContextCell {
  current: Readonly<RequestContext>;
}

const globalStore = globalThis as {
  [REQUEST_CONTEXT_STORE]?: AsyncLocalStorage<RequestContextCell>;
};
const storage: AsyncLocalStorage<RequestContextCell> = (globalStore[REQUEST_CONTEXT_STORE] ??=
  new AsyncLocalStorage<RequestContextCell>());

function snapshot(ctx: RequestContext): Readonly<RequestContext> {
  const copy: RequestContext = { ...ctx };
  if (ctx.attributes !== undefined) {
    (copy as { attributes?: RequestContext['attributes'] }).attributes = Object.freeze({
      ...ctx.attributes,
    });
  }
  return Object.freeze(copy);
}

/**
 * Runs `fn` with `ctx` as the request context. Everything `fn` starts (awaits,
 * timers, event emitters bound in it) sees the same context, and no other
 * request's. A nested call replaces the context for its own scope only.
 *
 * A `ctx` that is not an object gets a `diag` warning and runs with an empty context.
 *
 * @example
 * runWithRequestContext({ requestId: 'r-1', route: '/users/:id' }, () => handle(req, res));
 */
export function runWithRequestContext<R>(ctx: RequestContext, fn: () => R): R {
  if (typeof fn !== 'function') {
    throw new OtelWinstonError(
      'OTW_ERR_INVALID_ARGUMENT',
      `Expected \`fn\` to be a function, got ${describeValue(fn)}`,
    );
  }
  let initial: Readonly<RequestContext>;
  if (typeof ctx === 'object' && ctx !== null && !Array.isArray(ctx)) {
    initial = snapshot(ctx);
  } else {
    warn('OTW008', `Expected the request context to be an object, got ${describeValue(ctx)}`);
    initial = Object.freeze({});
  }
  return storage.run({ current: initial }, fn);
}

/** The request context of the current async scope, or `undefined` outside a request. */
export function getRequestContext(): Readonly<RequestContext> | undefined {
  return storage.getStore()?.current;
}

/**
 * Merges `partial` into the current request's context: later log calls in this
 * request (in every async branch of it) see the merged fields; records already
 * logged keep what they captured. `attributes` are merged key by key.
 *
 * Returns `false`, with a `diag` warning, when called outside a request.
 *
 * @example
 * setRequestContext({ userId: claims.sub });
 */
export function setRequestContext(partial: Partial<RequestContext>): boolean {
  const cell = storage.getStore();
  if (cell === undefined) {
    warn('OTW005', 'setRequestContext() was called outside runWithRequestContext(); ignored');
    return false;
  }
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
    warn('OTW008', `Expected the request context to be an object, got ${describeValue(partial)}`);
    return false;
  }
  const merged: RequestContext = { ...cell.current, ...partial };
  if (partial.attributes !== undefined && cell.current.attributes !== undefined) {
    (merged as { attributes?: RequestContext['attributes'] }).attributes = {
      ...cell.current.attributes,
      ...partial.attributes,
    };
  }
  cell.current = snapshot(merged);
  return true;
}

/**
 * `fn`, bound to the current request's scope: wherever it is called from, it
 * runs in this request's context. Outside a request, `fn` itself.
 */
export function bindToRequestScope<A extends unknown[], R>(
  fn: (this: unknown, ...args: A) => R,
): (this: unknown, ...args: A) => R {
  const cell = storage.getStore();
  if (cell === undefined) return fn;
  return function inRequestScope(this: unknown, ...args: A): R {
    return storage.run(cell, () => fn.apply(this, args));
  };
}

interface ScopedEmitter {
  emit: (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;
  [REQUEST_SCOPE]?: RequestContextCell;
}

/**
 * Makes every event of `emitter` run in the current request's scope. An
 * incoming request's `'data'` and `'end'` come from its socket, outside the
 * request, so a body parser would otherwise hand the rest of the request to
 * code that has no request context. Binding again (the preload, then a
 * middleware's nested scope) moves the emitter to the newer scope; the
 * wrapper is installed once. Outside a request this does nothing.
 */
export function bindEmitterToRequestScope(emitter: {
  emit: (event: string | symbol, ...args: never[]) => boolean;
}): void {
  const cell = storage.getStore();
  if (cell === undefined) return;
  const target = emitter as unknown as ScopedEmitter;
  const bound = target[REQUEST_SCOPE] !== undefined;
  target[REQUEST_SCOPE] = cell;
  if (bound) return;
  const emit = target.emit;
  target.emit = function emitInRequestScope(this: unknown, event, ...args) {
    const scope = target[REQUEST_SCOPE];
    if (scope === undefined || storage.getStore() === scope) return emit.call(this, event, ...args);
    return storage.run(scope, () => emit.call(this, event, ...args));
  };
}
