/**
 * The value rules: patterns found inside strings (a body, an attribute, a
 * value nested in a map or a list, an exception message or stack).
 *
 * Every pattern runs in time linear in the text. JavaScript's regular
 * expressions backtrack, so each is written to make that hold:
 *
 * - a match may only start where a lookbehind sees no character of the
 *   token it begins (`(?<![A-Za-z0-9_-])eyJ`), so attempts start at token
 *   boundaries, not at every character of a long run;
 * - every repeated class is disjoint from what follows it (`[^\s/:@]+:`),
 *   so an attempt that fails gives back at most its own run, once;
 * - repetitions whose count is not bounded by such a delimiter have a
 *   fixed bound (`(?:[0-9][ -]?){12,18}`).
 *
 * `test/policies/redaction-rules.test.ts` feeds each of them adversarial
 * strings (long runs of a token's characters, its prefix repeated) and checks
 * that the time grows linearly with the length. What a regular expression
 * cannot check (a card number's Luhn digit, a Basic credential that decodes
 * to `user:password`, an IPv6 address) is checked in code on the candidate.
 */
import { isIPv6 } from 'node:net';

/** A span of a text to redact: `[start, end)`. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A rule that finds secrets inside strings. */
export interface ValueRule {
  /** Stable name: the `rule` of the redaction metric, and how options refer to it. */
  readonly name: string;
  /** Every span of `text` to redact, in order, not overlapping. */
  find(text: string): Span[];
  /**
   * A pattern that occurs (matched case-insensitively) in every text the
   * rule finds something in: the redactor runs one search for the hints of
   * all rules, and runs the rules only when it hits. Without one, the rule
   * runs on every string.
   */
  readonly hint?: RegExp;
}

/**
 * A rule from a global regular expression. With `group`, only that capture
 * group is redacted (the key of `password=...` stays); `accept` can refuse a
 * candidate the expression alone cannot judge.
 */
export function patternRule(
  name: string,
  pattern: RegExp,
  options: {
    group?: number;
    accept?: (match: RegExpExecArray) => boolean;
    hint?: RegExp;
  } = {},
): ValueRule {
  const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
  const global = new RegExp(pattern.source, flags.includes('d') ? flags : `${flags}d`);
  const { group, accept, hint } = options;
  return {
    name,
    hint,
    find(text) {
      const spans: Span[] = [];
      global.lastIndex = 0;
      let match: RegExpExecArray | null;
      while ((match = global.exec(text)) !== null) {
        if (match[0].length === 0) {
          global.lastIndex++;
          continue;
        }
        if (accept !== undefined && !accept(match)) {
          // Not a secret after all: look again from the next character.
          global.lastIndex = match.index + 1;
          continue;
        }
        const at = group === undefined ? match.indices![0] : match.indices![group];
        if (at !== undefined && at[1] > at[0]) spans.push({ start: at[0], end: at[1] });
      }
      return spans;
    },
  };
}

/** Whether the digits of `text` pass the Luhn check of card numbers. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Whether `digits` has the length and issuer prefix of a payment card
 * (Visa, Mastercard, American Express, Discover, JCB, Diners Club, UnionPay,
 * Maestro) and a valid Luhn digit: a 16-digit order id passes one time in ten
 * at most, and only with a card's prefix.
 */
export function isCardNumber(digits: string): boolean {
  const n = digits.length;
  if (n < 13 || n > 19) return false;
  const two = Number(digits.slice(0, 2));
  const four = Number(digits.slice(0, 4));
  const prefixed =
    (digits[0] === '4' && (n === 13 || n === 16 || n === 19)) || // Visa
    (((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) && n === 16) || // Mastercard
    ((two === 34 || two === 37) && n === 15) || // American Express
    ((four === 6011 || two === 65 || (four >= 6440 && four <= 6499)) && n >= 16) || // Discover
    (four >= 3528 && four <= 3589 && n >= 16) || // JCB
    ((two === 36 || (four >= 3000 && four <= 3059) || two === 38 || two === 39) && n >= 14) || // Diners
    (two === 62 && n >= 16) || // UnionPay
    ((two === 50 || (two >= 56 && two <= 58) || digits[0] === '6') && n >= 12); // Maestro
  return prefixed && luhn(digits);
}

/**
 * Whether the separators of a candidate are where a card's are: none, or
 * one kind of separator between groups of four (the last of one to four),
 * or the 4-6-5 / 4-6-4 of American Express and Diners Club. Not the
 * `4716-446655440000` end of a UUID.
 */
function cardGrouping(text: string): boolean {
  const groups = text.split(/[ -]/);
  if (groups.length === 1) return true;
  if (text.includes(' ') && text.includes('-')) return false;
  const lengths = groups.map((g) => g.length);
  if (lengths.length === 3 && lengths[0] === 4 && lengths[1] === 6)
    return lengths[2] === 4 || lengths[2] === 5;
  const last = lengths.pop()!;
  return lengths.every((n) => n === 4) && last >= 1 && last <= 4;
}

/** A `Basic` credential: base64 that decodes to `user:password` in printable text. */
function isBasicCredential(token: string): boolean {
  const decoded = Buffer.from(token, 'base64').toString('latin1');
  return /^[\x20-\x7e]+:[\x20-\x7e]*$/.test(decoded);
}

const KEY_VALUE_KEYS = [
  'password',
  'passwd',
  'secret',
  'client[_-]?secret',
  'token',
  'access[_-]?token',
  'refresh[_-]?token',
  'auth[_-]?token',
  'api[_-]?key',
  'apikey',
  'access[_-]?key',
  'secret[_-]?key',
  'private[_-]?key',
  'session[_-]?id',
  'sig',
  'signature',
].join('|');

/** The end of `scheme://user:`: what precedes a password in a URL. */
const URL_USER = /:\/\/[^\s/:@]*:$/;

/** The rules on by default. */
export const DEFAULT_VALUE_RULES: readonly ValueRule[] = [
  // Three base64url parts, the first two JSON objects: `eyJ` is `{"`.
  patternRule('jwt', /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/, {
    hint: /eyJ/,
  }),
  // An opaque bearer token: long, and with a digit or very long (not "Bearer authentication").
  patternRule('bearer-token', /(?<![A-Za-z0-9])[Bb]earer[ \t]+([A-Za-z0-9._~+/-]{16,}=*)/, {
    group: 1,
    accept: (m) => /[0-9]/.test(m[1]!) || m[1]!.length >= 32,
    hint: /bearer/,
  }),
  patternRule(
    'basic-credentials',
    /(?<![A-Za-z0-9])[Bb]asic[ \t]+([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])/,
    {
      group: 1,
      accept: (m) => isBasicCredential(m[1]!),
      hint: /basic/,
    },
  ),
  // `password=...`, `"api_key": "..."`, `token: ...`: the value, up to a delimiter.
  patternRule(
    'key-value-secret',
    new RegExp(`(?<![A-Za-z0-9])(?:${KEY_VALUE_KEYS})"?[ \\t]*[=:][ \\t]*"?([^\\s"'&;,]+)`, 'i'),
    { group: 1, hint: new RegExp(`(?:${KEY_VALUE_KEYS})"?[ \\t]*[=:]`) },
  ),
  // `scheme://user:password@host`: the user and the password.
  patternRule(
    'url-credentials',
    /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:\/\/([^\s/:@]+:[^\s/@]+)@/,
    { group: 1, hint: /:\/\// },
  ),
  patternRule(
    'email',
    /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/,
    // Not the `password@host` of a URL's credentials: that rule masks them, and keeps the host.
    {
      accept: (m) => !URL_USER.test(m.input.slice(Math.max(0, m.index - 256), m.index)),
      hint: /@/,
    },
  ),
  // 13 to 19 digits, not inside a word or a hex string, spaces or dashes between in a card's
  // groups; then checked in code (prefix, Luhn).
  patternRule('card-number', /(?<![0-9A-Za-z_])(?:[0-9][ -]?){12,18}[0-9](?![0-9A-Za-z_])/, {
    accept: (m) => cardGrouping(m[0]) && isCardNumber(m[0].replace(/[ -]/g, '')),
    hint: /[0-9](?:[ -]?[0-9]){12}/,
  }),
  patternRule(
    'aws-access-key',
    /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}(?![A-Z0-9])/,
    { hint: /a(?:kia|sia|bia|cca|gpa|ida|ipa|npa|nva|roa|pka|sca)[a-z0-9]{16}/ },
  ),
  privateKeyRule(),
];

/** IPv4 and IPv6 addresses: off by default (`ipAddresses: true`). */
export const IP_ADDRESS_RULE: ValueRule = (() => {
  const v4 = patternRule(
    'ip-address',
    /(?<![0-9.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?![0-9]|\.[0-9])/,
  );
  const v6 = patternRule('ip-address', /(?<![0-9A-Fa-f:])[0-9A-Fa-f:]{2,39}(?![0-9A-Fa-f:])/, {
    accept: (m) => (m[0].includes('::') || m[0].split(':').length === 8 ? isIPv6(m[0]) : false),
  });
  return {
    name: 'ip-address',
    find: (text) => merge([...v4.find(text), ...v6.find(text)]),
    hint: /[0-9]\.[0-9]|[0-9a-f]:[0-9a-f]|::/,
  };
})();

/**
 * A PEM private key block, `-----BEGIN ... PRIVATE KEY-----` to its `END`
 * line; with no END, to the end of the text (a key cut short is still a key).
 * Found with `indexOf`, not a lazy `[\s\S]*?`, so that many BEGINs without an
 * END stay linear.
 */
function privateKeyRule(): ValueRule {
  const begin = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----/y;
  const end = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----/g;
  return {
    name: 'private-key',
    hint: /-----begin /,
    find(text) {
      const spans: Span[] = [];
      let from = 0;
      for (;;) {
        const at = text.indexOf('-----BEGIN ', from);
        if (at < 0) return spans;
        begin.lastIndex = at;
        if (!begin.test(text)) {
          from = at + 1;
          continue;
        }
        end.lastIndex = begin.lastIndex;
        const closed = end.exec(text);
        const stop = closed === null ? text.length : closed.index + closed[0].length;
        spans.push({ start: at, end: stop });
        if (closed === null) return spans;
        from = stop;
      }
    },
  };
}

/** Sorts spans and merges those that overlap or touch. */
export function merge(spans: Span[]): Span[] {
  if (spans.length < 2) return spans;
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [sorted[0]!];
  for (const span of sorted.slice(1)) {
    const last = out[out.length - 1]!;
    if (span.start <= last.end) {
      if (span.end > last.end) out[out.length - 1] = { start: last.start, end: span.end };
    } else {
      out.push(span);
    }
  }
  return out;
}
