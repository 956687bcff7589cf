/** A value OTLP can carry: the specification's AnyValue. */
export type AnyValue = string | number | boolean | Uint8Array | null | AnyValue[] | AnyValueMap;
/** A map of AnyValues (an OTLP `kvlist`). */
export interface AnyValueMap {
  [key: string]: AnyValue;
}

/** Bounds on turning arbitrary values into OpenTelemetry AnyValues. */
export interface ValueLimits {
  /** Deepest nesting kept; deeper maps and lists become "[Object]" / "[Array]". */
  readonly maxDepth: number;
  /** Most entries kept per map or list. */
  readonly maxCollectionSize: number;
  /** Longest string (UTF-16 code units) or byte array kept; longer ones are truncated. */
  readonly maxStringLength: number;
  /** Most values (of any kind, at any depth) converted for one record. */
  readonly maxValuesPerRecord: number;
}

/**
 * `source[key]`, or {@link UNREADABLE} where a getter or Proxy trap throws; the
 * first such failure is kept in `state`.
 */
export function readValue(source: object, key: string, state: ValueState): unknown {
  try {
    return (source as Record<string, unknown>)[key];
  } catch (error) {
    state.failure ??= error;
    return UNREADABLE;
  }
}

export const CIRCULAR = '[Circular]';
export const UNREADABLE = '[Unreadable]';
export const TRUNCATED = '[Truncated]';

/** The conversion state of one record. Not shared between calls: a getter may log. */
export interface ValueState {
  limits: ValueLimits;
  /** Values left in this record's budget. */
  budget: number;
  /** The maps and lists being converted, outermost first, to spot cycles; made on first use. */
  ancestors: object[] | undefined;
  /** The first read failure, for the warning. */
  failure: unknown;
}

export function newValueState(limits: ValueLimits): ValueState {
  return { limits, budget: limits.maxValuesPerRecord, ancestors: undefined, failure: undefined };
}

/** A string cut to the length limit and made well-formed UTF-16 (lone surrogates become U+FFFD). */
export function boundString(value: string, maxLength: number): string {
  let out = value.length > maxLength ? value.slice(0, maxLength) : value;
  if (!out.isWellFormed()) out = out.toWellFormed();
  return out;
}

function bytes(view: ArrayBufferView | ArrayBuffer, max: number): Uint8Array {
  const source =
    view instanceof ArrayBuffer
      ? new Uint8Array(view)
      : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  // A copy: a pooled Buffer may be reused before the record is exported.
  return source.slice(0, Math.min(source.length, max));
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Converts any JavaScript value to an OpenTelemetry AnyValue, or `undefined`
 * when it has no representation (functions, symbols, `undefined`). Never throws.
 *
 * - strings are bounded and made well-formed; numbers and booleans pass;
 * - BigInt becomes a number when it is a safe integer, else its decimal string;
 * - Date becomes its ISO string; Buffer, Uint8Array, ArrayBuffer and DataView bytes;
 *   other typed arrays a list of numbers;
 * - Map becomes a map (keys as strings), Set and arrays a list;
 * - an Error becomes a map of its name, message, stack, code, cause and own fields;
 * - any other object (plain or a class instance) a map of its own enumerable
 *   fields, or its `toJSON()` / string form when it has no fields (URL, ObjectId);
 * - a cycle becomes "[Circular]", a value whose getter or Proxy trap throws
 *   "[Unreadable]"; depth, entries per collection, string length and the values
 *   per record are bounded.
 */
export function toAnyValue(value: unknown, depth: number, state: ValueState): AnyValue | undefined {
  switch (typeof value) {
    case 'string':
      return boundString(value, state.limits.maxStringLength);
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
    case 'object':
      if (value === null) return null;
      return objectToAnyValue(value, depth, state);
    default:
      // undefined, function, symbol
      return undefined;
  }
}

function objectToAnyValue(value: object, depth: number, state: ValueState): AnyValue {
  if (--state.budget < 0) return TRUNCATED;
  try {
    const ancestors = (state.ancestors ??= []);
    if (ancestors.includes(value)) return CIRCULAR;
    if (value instanceof Date) {
      const time = value.getTime();
      return Number.isNaN(time) ? 'Invalid Date' : value.toISOString();
    }
    if (ArrayBuffer.isView(value)) {
      if (value instanceof Uint8Array || value instanceof DataView) {
        return bytes(value, state.limits.maxStringLength);
      }
    } else if (value instanceof ArrayBuffer) {
      return bytes(value, state.limits.maxStringLength);
    }
    if (value instanceof RegExp) return String(value);
    if (depth >= state.limits.maxDepth) return Array.isArray(value) ? '[Array]' : '[Object]';

    ancestors.push(value);
    try {
      if (Array.isArray(value) || ArrayBuffer.isView(value)) {
        return listToAnyValue(value as ArrayLike<unknown>, depth, state);
      }
      if (value instanceof Set) return iterableToList(value.values(), value.size, depth, state);
      if (value instanceof Map) return mapToAnyValue(value, depth, state);
      if (value instanceof Error) return errorToAnyValue(value, depth, state);
      return fieldsToAnyValue(value, depth, state);
    } finally {
      ancestors.pop();
    }
  } catch (error) {
    state.failure ??= error;
    return UNREADABLE;
  }
}

function listToAnyValue(list: ArrayLike<unknown>, depth: number, state: ValueState): AnyValue[] {
  const length = Math.min(list.length, state.limits.maxCollectionSize);
  const out: AnyValue[] = new Array<AnyValue>(length);
  for (let i = 0; i < length; i++) {
    let item: unknown;
    try {
      item = list[i];
    } catch (error) {
      state.failure ??= error;
      item = UNREADABLE;
    }
    // A position with no representation stays as null, so indexes hold.
    out[i] = toAnyValue(item, depth + 1, state) ?? null;
  }
  return out;
}

function iterableToList(
  items: Iterator<unknown>,
  size: number,
  depth: number,
  state: ValueState,
): AnyValue[] {
  const out: AnyValue[] = [];
  const max = Math.min(size, state.limits.maxCollectionSize);
  for (let next = items.next(); !next.done && out.length < max; next = items.next()) {
    out.push(toAnyValue(next.value, depth + 1, state) ?? null);
  }
  return out;
}

function mapToAnyValue(map: Map<unknown, unknown>, depth: number, state: ValueState): AnyValueMap {
  const out: AnyValueMap = {};
  let kept = 0;
  for (const [key, item] of map) {
    if (kept >= state.limits.maxCollectionSize) break;
    const converted = toAnyValue(item, depth + 1, state);
    if (converted === undefined) continue;
    out[boundString(typeof key === 'string' ? key : String(key), 256)] = converted;
    kept++;
  }
  return out;
}

function fieldsToAnyValue(value: object, depth: number, state: ValueState): AnyValue {
  const keys = Object.keys(value);
  const proto: unknown = Object.getPrototypeOf(value);
  if (keys.length === 0 && proto !== Object.prototype && proto !== null) {
    // A class instance with no own fields (URL, ObjectId, Decimal): its JSON or string form.
    const described = describeOpaque(value);
    if (described !== undefined) return boundString(described, state.limits.maxStringLength);
  }
  return keysToAnyValue(value, keys, depth, state);
}

function keysToAnyValue(
  value: object,
  keys: readonly string[],
  depth: number,
  state: ValueState,
): AnyValueMap {
  const out: AnyValueMap = {};
  const max = state.limits.maxCollectionSize;
  let kept = 0;
  for (const key of keys) {
    if (kept >= max) break;
    const converted = toAnyValue(readValue(value, key, state), depth + 1, state);
    if (converted === undefined) continue;
    out[key] = converted;
    kept++;
  }
  return out;
}

function describeOpaque(value: object): string | undefined {
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') {
    const json = withJson.toJSON();
    if (typeof json === 'string') return json;
  }
  const text = String(value);
  return text.startsWith('[object ') ? undefined : text;
}

const ERROR_FIELDS = ['name', 'message', 'stack', 'code', 'cause'] as const;

function errorToAnyValue(error: Error, depth: number, state: ValueState): AnyValueMap {
  const keys = new Set<string>(ERROR_FIELDS);
  for (const key of Object.keys(error)) keys.add(key);
  if (error instanceof AggregateError) keys.add('errors');
  return keysToAnyValue(error, [...keys], depth, state);
}
