/**
 * The key rules: attribute keys (and keys of maps nested in attributes or in
 * a map body) whose value is redacted whole, whatever it is.
 *
 * A key is compared case-insensitively with `-`, `_`, `.` and spaces left
 * out, as a whole and by its last dotted part, so `password` matches
 * `Password`, `user_password` (through `*password*`) and
 * `http.request.header.x-api-key` (through `*apikey*`).
 */

/** A rule on keys: names, or globs with `*` for any run of characters. */
export interface KeyRule {
  /** Stable name: the `rule` of the redaction metric, and how options refer to it. */
  readonly name: string;
  readonly keys: readonly string[];
}

/** The key rules on by default. */
export const DEFAULT_KEY_RULES: readonly KeyRule[] = [
  { name: 'password', keys: ['*password*', 'passwd', 'pwd', 'passphrase'] },
  { name: 'secret', keys: ['*secret*'] },
  { name: 'token', keys: ['*token*'] },
  { name: 'authorization', keys: ['authorization', 'proxyauthorization', 'auth'] },
  { name: 'cookie', keys: ['cookie', 'setcookie', 'cookies'] },
  { name: 'api-key', keys: ['*apikey*', '*accesskey*', 'xapikey'] },
  { name: 'private-key', keys: ['*privatekey*'] },
  { name: 'credentials', keys: ['credential', 'credentials', '*credentials'] },
  { name: 'card', keys: ['cardnumber', 'ccnumber', 'cvv', 'cvc', 'pan'] },
];

/** `Api-Key` → `apikey`: how keys and globs are compared. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_. ]/g, '');
}

type Matcher = (normalized: string) => boolean;

/** A glob (`*` for any run) as a test on a normalized key; linear, no regular expression. */
function globMatcher(glob: string): Matcher {
  // Each part between stars normalized as a key is.
  const parts = glob.split('*').map(normalizeKey);
  const g = parts.join('*');
  if (parts.length === 1) return (k) => k === g;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p !== '');
  return (k) => {
    if (k.length < first.length + last.length || !k.startsWith(first) || !k.endsWith(last)) {
      return false;
    }
    let at = first.length;
    const stop = k.length - last.length;
    for (const part of middle) {
      const found = k.indexOf(part, at);
      if (found < 0 || found + part.length > stop) return false;
      at = found + part.length;
    }
    return true;
  };
}

/** Most distinct keys remembered with their rule; past it, the memory starts again. */
const CACHE_LIMIT = 4096;

/**
 * Which key rule a key falls under, if any. Decisions are remembered per key
 * (a log call repeats its keys), up to 4,096 keys.
 */
export class KeyMatcher {
  readonly #rules: ReadonlyArray<{ readonly rule: KeyRule; readonly match: Matcher[] }>;
  readonly #cache = new Map<string, KeyRule | null>();

  constructor(rules: readonly KeyRule[]) {
    this.#rules = rules.map((rule) => ({ rule, match: rule.keys.map(globMatcher) }));
  }

  /** The rule `key` falls under, or undefined. */
  ruleFor(key: string): KeyRule | undefined {
    const known = this.#cache.get(key);
    if (known !== undefined) return known ?? undefined;
    const rule = this.#decide(key);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(key, rule ?? null);
    return rule;
  }

  #decide(key: string): KeyRule | undefined {
    if (this.#rules.length === 0) return undefined;
    const whole = normalizeKey(key);
    const dot = key.lastIndexOf('.');
    const tail = dot >= 0 ? normalizeKey(key.slice(dot + 1)) : whole;
    for (const { rule, match } of this.#rules) {
      for (const m of match) if (m(whole) || (tail !== whole && m(tail))) return rule;
    }
    return undefined;
  }
}
