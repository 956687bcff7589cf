import type { Attributes } from '@opentelemetry/api';
import { expect } from 'chai';
import { DEFAULT_KEY_RULES } from '../../src/policies/redaction/key-rules.js';
import { Redactor } from '../../src/policies/redaction/redactor.js';
import { DEFAULT_VALUE_RULES } from '../../src/policies/redaction/value-rules.js';

/**
 * The two corpora of the default rules, generated from a fixed seed:
 *
 * - recall: every kind of secret, planted in a string body, an attribute, a
 *   map nested in the attributes, a map body and an exception message;
 *   none may be left anywhere in the output;
 * - false positives: realistic log lines with ids, UUIDs, timestamps,
 *   decimals, versions, hashes, URLs and durations and no secret; none may
 *   be changed.
 */

/** mulberry32: a small seeded generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = random(20261202);
const int = (min: number, max: number): number => min + Math.floor(rand() * (max - min + 1));
const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
const chars = (alphabet: string, n: number): string =>
  Array.from({ length: n }, () => alphabet[int(0, alphabet.length - 1)]).join('');
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const HEX = '0123456789abcdef';
const ALNUM = LOWER + UPPER + DIGITS;
const B64URL = `${ALNUM}-_`;
const B64 = `${ALNUM}+/`;
const b64url = (text: string): string => Buffer.from(text).toString('base64url');

/** A card number of a network's prefix and length, with its Luhn digit. */
function cardNumber(): string {
  const [prefix, length] = pick<[string, number]>([
    ['4', 16],
    ['4', 13],
    [String(int(51, 55)), 16],
    [String(int(2221, 2720)), 16],
    [pick(['34', '37']), 15],
    ['6011', 16],
    [String(int(3528, 3589)), 16],
    ['36', 14],
  ]);
  let digits = prefix + chars(DIGITS, length - prefix.length - 1);
  for (let check = 0; check <= 9; check++) {
    const candidate = digits + check;
    let sum = 0;
    for (let i = 0; i < candidate.length; i++) {
      let d = Number(candidate[candidate.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    if (sum % 10 === 0) {
      digits = candidate;
      break;
    }
  }
  const sep = pick(['', ' ', '-']);
  return sep === '' ? digits : digits.match(/.{1,4}/g)!.join(sep);
}

/** A secret, and the text around it as it would be logged. */
interface Planted {
  readonly kind: string;
  /** What must not be in the output. */
  readonly secret: string;
  /** The secret in the text a log line would have. */
  readonly text: string;
}

const SECRET_KINDS: ReadonlyArray<() => Planted> = [
  () => {
    const jwt = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: `u-${int(1, 1e6)}`, iat: int(1.6e9, 1.8e9) }))}.${chars(B64URL, 43)}`;
    return { kind: 'jwt', secret: jwt, text: pick([`token ${jwt}`, `jwt=${jwt}`, `"${jwt}"`]) };
  },
  () => {
    const token = chars(ALNUM, int(20, 40)) + int(0, 9);
    return { kind: 'bearer-token', secret: token, text: `${pick(['Bearer', 'bearer'])} ${token}` };
  },
  () => {
    const basic = Buffer.from(`${chars(LOWER, 6)}:${chars(ALNUM, 12)}`).toString('base64');
    return { kind: 'basic-credentials', secret: basic, text: `Authorization: Basic ${basic}` };
  },
  () => {
    const value = chars(ALNUM, int(8, 30));
    const key = pick([
      'password',
      'passwd',
      'secret',
      'client_secret',
      'token',
      'access_token',
      'refresh-token',
      'api_key',
      'apiKey',
      'access_key',
      'private_key',
      'session_id',
      'SIGNATURE',
    ]);
    const text = pick([
      `${key}=${value}`,
      `${key}: ${value}`,
      `"${key}": "${value}"`,
      `?a=1&${key}=${value}&b=2`,
    ]);
    return { kind: 'key-value-secret', secret: value, text };
  },
  () => {
    const creds = `${chars(LOWER, 5)}:${chars(ALNUM, 14)}`;
    const url = `${pick(['https', 'postgres', 'redis', 'amqp', 'mongodb+srv'])}://${creds}@${chars(LOWER, 6)}.example.com:${int(1000, 9999)}/${chars(LOWER, 4)}`;
    return { kind: 'url-credentials', secret: creds, text: `connecting to ${url}` };
  },
  () => {
    const email = `${chars(LOWER, int(3, 10))}${pick(['', '.', '+', '_'])}${chars(LOWER + DIGITS, 4)}@${chars(LOWER, int(4, 9))}.${pick(['com', 'io', 'co.uk', 'example', 'dev'])}`;
    return {
      kind: 'email',
      secret: email,
      text: pick([`sent to ${email}`, `<${email}>`, `user=${email}`]),
    };
  },
  () => {
    const card = cardNumber();
    return {
      kind: 'card-number',
      secret: card,
      text: pick([`card ${card} declined`, `pan:${card}`]),
    };
  },
  () => {
    const key = `${pick(['AKIA', 'ASIA'])}${chars(UPPER + DIGITS, 16)}`;
    return { kind: 'aws-access-key', secret: key, text: `using key ${key}` };
  },
  () => {
    const kind = pick(['RSA ', 'EC ', 'OPENSSH ', '']);
    const body = Array.from({ length: int(2, 6) }, () => chars(B64, 64)).join('\n');
    const block = `-----BEGIN ${kind}PRIVATE KEY-----\n${body}\n-----END ${kind}PRIVATE KEY-----`;
    return { kind: 'private-key', secret: body.split('\n')[0]!, text: `loaded ${block}` };
  },
];

/** Each way a string is logged: it must come out without the secret whichever. */
const PLACES: ReadonlyArray<(text: string) => { body?: unknown; attributes: Attributes }> = [
  (text) => ({ body: `request failed: ${text} (retrying)`, attributes: {} }),
  (text) => ({ body: 'login', attributes: { detail: text } }),
  (text) => ({
    body: 'login',
    attributes: { req: { headers: { 'x-note': text }, list: ['a', text] } },
  }),
  (text) => ({ body: { event: 'login', nested: { deeper: [{ note: text }] } }, attributes: {} }),
  (text) => ({
    body: 'boom',
    attributes: {
      'exception.message': `failed with ${text}`,
      'exception.stacktrace': `Error: failed with ${text}\n    at x (y.js:1:1)`,
    },
  }),
];

function redactor(): Redactor {
  return new Redactor({
    keyRules: DEFAULT_KEY_RULES,
    valueRules: DEFAULT_VALUE_RULES,
    actions: {},
    mask: '****',
    hashKey: undefined,
    maxScanLength: 1_048_576,
  });
}

function apply(r: Redactor, record: { body?: unknown; attributes: Attributes }): string {
  const body = record.body === undefined ? undefined : r.body(record.body as never);
  return JSON.stringify({ body, attributes: r.attributes(record.attributes) });
}

/** A realistic line with no secret in it. */
const CLEAN_LINES: ReadonlyArray<() => string> = [
  () =>
    `GET /api/orders/${int(1, 9_999_999)} ${pick([200, 201, 204, 304, 404, 500])} ${int(1, 900)}ms`,
  () =>
    `order ${crypto.randomUUID()} placed by user u-${int(1, 99999)} total ${int(1, 999)}.${String(int(0, 99)).padStart(2, '0')} EUR`,
  () =>
    `deployed version ${int(0, 20)}.${int(0, 40)}.${int(0, 99)}${pick(['', '-rc.1', '-beta.3', '+build.7'])} commit ${chars(HEX, 40)}`,
  () =>
    `request ${chars(HEX, 16)} took ${int(1, 5000)} ms at ${new Date(int(1.6e12, 1.8e12)).toISOString()}`,
  () => `trace_id=${chars(HEX, 32)} span_id=${chars(HEX, 16)} sampled=${pick(['true', 'false'])}`,
  () => `cache hit ratio ${rand().toFixed(4)} over ${int(100, 100000)} lookups`,
  () => `retrying in ${int(100, 30000)} ms (attempt ${int(1, 5)}/5)`,
  () => `image sha256:${chars(HEX, 64)} pulled in ${(rand() * 30).toFixed(2)} s`,
  () => `etag W/"${chars(HEX, 27)}" for /static/app.${chars(HEX, 8)}.js`,
  () =>
    `fetched https://api.example.com/v${int(1, 3)}/items?page=${int(1, 50)}&limit=${int(10, 100)}&sort=created_at`,
  () =>
    `at Object.<anonymous> (/app/src/${pick(['index', 'server', 'orders/service'])}.js:${int(1, 500)}:${int(1, 80)})`,
  () =>
    `heap used ${(rand() * 500).toFixed(1)} MiB, rss ${(rand() * 900).toFixed(1)} MiB, gc pause ${(rand() * 20).toFixed(2)} ms`,
  () =>
    `processed ${int(1, 1_000_000)} records in ${(rand() * 10).toFixed(3)} s (${int(1000, 90000)}/s)`,
  () => `snowflake id ${1}${chars(DIGITS, 18)} at epoch ${int(1.6e12, 1.8e12)} seq ${int(0, 4095)}`,
  () =>
    `user u-${int(1, 99999)} logged in via ${pick(['web', 'ios', 'android'])} session ${crypto.randomUUID()}`,
  () =>
    `payment ${int(100000, 99999999)} of ${int(1, 5000)}.${String(int(0, 99)).padStart(2, '0')} USD captured for order ORD-${int(100000, 999999)}`,
  () =>
    `tokens used: prompt=${int(1, 4000)} completion=${int(1, 4000)} max_tokens=${int(256, 8192)}`,
  () =>
    `pod checkout-${chars(HEX, 10)}-${chars(LOWER + DIGITS, 5)} ready ${int(1, 3)}/${int(3, 5)} restarts ${int(0, 9)}`,
  () =>
    `npm i @opentelemetry/api@${int(1, 2)}.${int(0, 9)}.${int(0, 9)} winston@3.${int(0, 19)}.${int(0, 9)}`,
  () => `listening on http://localhost:${int(1024, 65535)}/ with ${int(1, 64)} workers`,
  () =>
    `sql: SELECT * FROM orders WHERE id = $1 AND created_at > $2 LIMIT ${int(1, 100)} (${(rand() * 50).toFixed(2)} ms)`,
  () => `password reset requested for user u-${int(1, 99999)}; email queued`,
  () =>
    `feature flag ${pick(['new-checkout', 'dark_mode', 'beta.search'])}=${pick(['on', 'off'])} for ${int(0, 100)}% of users`,
  () =>
    `batch ${int(1, 999)}: ${int(1, 512)} records, ${int(1000, 4_000_000)} bytes, crc32 ${chars(HEX, 8)}`,
  () =>
    `latency p50=${(rand() * 100).toFixed(1)}ms p99=${(rand() * 900).toFixed(1)}ms over ${int(1, 60)}s`,
  () =>
    `phone verification sent to user u-${int(1, 99999)} (+${int(1, 99)} ***-***-${String(int(0, 9999)).padStart(4, '0')})`,
  () =>
    `file /var/lib/app/${chars(LOWER, 6)}-${new Date(int(1.6e12, 1.8e12)).toISOString().slice(0, 10)}.log rotated (${int(1, 999)} MB)`,
  () => `uuid ${crypto.randomUUID()} and ${crypto.randomUUID()} merged`,
];

describe('redaction corpora (default rules)', () => {
  it('recall: every kind of secret, planted in bodies, attributes, nested maps and exceptions, is masked (100%)', () => {
    const r = redactor();
    let cases = 0;
    const leaks: string[] = [];
    for (let round = 0; round < 60; round++) {
      for (const kind of SECRET_KINDS) {
        for (const place of PLACES) {
          const planted = kind();
          const out = apply(r, place(planted.text));
          cases++;
          // JSON escapes newlines: compare with the secret as JSON writes it.
          if (out.includes(JSON.stringify(planted.secret).slice(1, -1))) {
            leaks.push(`${planted.kind}: ${planted.text}`);
          }
        }
      }
    }
    expect(cases).to.equal(60 * SECRET_KINDS.length * PLACES.length);
    expect(leaks.slice(0, 5), `${leaks.length} of ${cases} leaked`).to.deep.equal([]);
  });

  it('false positives: 12,000 realistic lines without secrets come out unchanged (0)', () => {
    const r = redactor();
    const changed: string[] = [];
    for (let i = 0; i < 12_000; i++) {
      const line = CLEAN_LINES[i % CLEAN_LINES.length]!();
      const out = r.body(line);
      if (out !== line) changed.push(`${line}\n→ ${String(out)}`);
      const attributes = { line, n: int(0, 1e9), ratio: rand(), ok: true };
      if (r.attributes(attributes) !== attributes) changed.push(`attributes of ${line}`);
    }
    expect(changed.slice(0, 5), `${changed.length} of 12,000 changed`).to.deep.equal([]);
  });
});
