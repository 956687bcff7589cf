import type { Attributes } from '@opentelemetry/api';
import { expect } from 'chai';
import { DEFAULT_KEY_RULES, KeyMatcher } from '../../src/policies/redaction/key-rules.js';
import { Redactor, type RedactAction } from '../../src/policies/redaction/redactor.js';
import {
  DEFAULT_VALUE_RULES,
  IP_ADDRESS_RULE,
  isCardNumber,
  patternRule,
  type ValueRule,
} from '../../src/policies/redaction/value-rules.js';
import { useDiagCapture } from '../helpers/diag.js';

function redactor(
  options: {
    actions?: Record<string, RedactAction>;
    hashKey?: string;
    valueRules?: readonly ValueRule[];
    maxScanLength?: number;
  } = {},
): Redactor {
  return new Redactor({
    keyRules: DEFAULT_KEY_RULES,
    valueRules: options.valueRules ?? [...DEFAULT_VALUE_RULES, IP_ADDRESS_RULE],
    actions: options.actions ?? {},
    mask: '****',
    hashKey: options.hashKey,
    maxScanLength: options.maxScanLength ?? 1_048_576,
  });
}

/** Test card numbers of the networks (they pass Luhn), and a JWT signed with HS256. */
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1LTQyIiwiaWF0IjoxNzAwMDAwMDAwfQ.3q2-7uJdLk3lQ0uYfK2Y4oQZ9c1qz8Zr2mXkqVbT1wE';
const BASIC = Buffer.from('alice:s3cr3t-pw').toString('base64');

/**
 * Each value rule: text with the secret in it, and what the redacted text
 * must be. Every case also checks that the secret is nowhere in the output.
 */
const VALUE_CASES: ReadonlyArray<{ rule: string; text: string; expected: string }> = [
  { rule: 'jwt', text: `token ${JWT} expired`, expected: 'token **** expired' },
  { rule: 'jwt', text: `"${JWT}"`, expected: '"****"' },
  {
    rule: 'bearer-token',
    text: 'Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0',
    expected: 'Authorization: Bearer ****',
  },
  {
    rule: 'bearer-token',
    text: 'sent bearer ghp_16C7e42F292c6912E7710c838347Ae178B4a',
    expected: 'sent bearer ****',
  },
  {
    rule: 'basic-credentials',
    text: `Authorization: Basic ${BASIC}`,
    expected: 'Authorization: Basic ****',
  },
  {
    rule: 'key-value-secret',
    text: 'login password=hunter2 ok',
    expected: 'login password=**** ok',
  },
  {
    rule: 'key-value-secret',
    text: '{"api_key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}',
    expected: '{"api_key": "****"}',
  },
  {
    rule: 'key-value-secret',
    text: 'GET /cb?code=1&client_secret=abc123XYZ&x=2',
    expected: 'GET /cb?code=1&client_secret=****&x=2',
  },
  {
    rule: 'key-value-secret',
    text: 'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    expected: 'aws_secret_access_key=****',
  },
  { rule: 'key-value-secret', text: 'Token: abcdef.123456', expected: 'Token: ****' },
  {
    rule: 'url-credentials',
    text: 'connecting to postgres://app:Sup3rS3cret@db.internal:5432/orders',
    expected: 'connecting to postgres://****@db.internal:5432/orders',
  },
  {
    rule: 'url-credentials',
    text: 'https://user:p%40ss@example.com/x',
    expected: 'https://****@example.com/x',
  },
  {
    rule: 'email',
    text: 'mail sent to jane.doe+orders@example.co.uk today',
    expected: 'mail sent to **** today',
  },
  { rule: 'email', text: '<ops@corp.example.com>', expected: '<****>' },
  {
    rule: 'card-number',
    text: 'card 4111 1111 1111 1111 declined',
    expected: 'card **** declined',
  },
  { rule: 'card-number', text: 'pan=5555-5555-5555-4444', expected: 'pan=****' },
  { rule: 'card-number', text: 'amex 378282246310005', expected: 'amex ****' },
  { rule: 'card-number', text: 'charged 6011111111111117.', expected: 'charged ****.' },
  { rule: 'aws-access-key', text: 'key AKIAIOSFODNN7EXAMPLE used', expected: 'key **** used' },
  { rule: 'aws-access-key', text: 'ASIAY34FZKBOKMUTVV7A', expected: '****' },
  {
    rule: 'private-key',
    text: 'cfg -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY----- done',
    expected: 'cfg **** done',
  },
  {
    rule: 'private-key',
    text: 'x -----BEGIN PRIVATE KEY-----\nMIIE cut short',
    expected: 'x ****',
  },
  { rule: 'ip-address', text: 'from 192.168.10.254 port 80', expected: 'from **** port 80' },
  { rule: 'ip-address', text: 'peer 2001:db8::8a2e:370:7334 closed', expected: 'peer **** closed' },
  { rule: 'ip-address', text: 'peer fe80:0:0:0:202:b3ff:fe1e:8329.', expected: 'peer ****.' },
];

/** Text each rule must leave alone: what looks like its secret and is not. */
const VALUE_NEGATIVES: ReadonlyArray<{ rule: string; text: string }> = [
  { rule: 'jwt', text: 'eyJ is how base64 JSON starts; eyJhbGciOiJIUzI1NiJ9 alone is a header' },
  { rule: 'bearer-token', text: 'use bearer authentication for the public API endpoints' },
  { rule: 'basic-credentials', text: 'basic information about the order' },
  { rule: 'basic-credentials', text: 'Basic dGhpcyBpcyBub3QgYSBwYWlyCg==' },
  { rule: 'key-value-secret', text: 'passwords must be rotated; tokens expire after 1h' },
  { rule: 'key-value-secret', text: 'x-api-version: 2' },
  { rule: 'url-credentials', text: 'GET https://example.com/a:b@c and mailto: ok' },
  { rule: 'email', text: 'npm i @opentelemetry/api@1.9.0 and winston@3; user@localhost' },
  {
    rule: 'card-number',
    text: 'order 4111111111111112 (Luhn fails), ts 1733097600000, id 9007199254740993',
  },
  {
    rule: 'card-number',
    text: 'trace 4bf92f3577b34da6a3ce929d0e0e4736 at 2026-12-02 10:30:00.123456',
  },
  { rule: 'aws-access-key', text: 'AKIA is a prefix; AKIAIOSFODNN7EXAMPLEX is 21 characters' },
  { rule: 'private-key', text: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' },
  { rule: 'ip-address', text: 'version 1.2.3 and 10:30:00 and 999.1.1.1 and 1.2.3.4.5' },
];

describe('redaction rules', () => {
  const diag = useDiagCapture();

  describe('value rules: each finds its secret and nothing else', () => {
    for (const { rule, text, expected } of VALUE_CASES) {
      it(`${rule}: ${JSON.stringify(text).slice(0, 60)}`, () => {
        const r = redactor();
        const out = r.body(text);
        expect(out).to.equal(expected);
        expect(r.counts().get(rule)).to.be.at.least(1);
      });
    }
    for (const { rule, text } of VALUE_NEGATIVES) {
      it(`${rule} leaves alone: ${JSON.stringify(text).slice(0, 60)}`, () => {
        const r = redactor();
        expect(r.body(text)).to.equal(text);
        expect([...r.counts().values()].reduce((a, b) => a + b, 0)).to.equal(0);
      });
    }
    it('every default rule and the IP rule have a case above', () => {
      const covered = new Set(VALUE_CASES.map((c) => c.rule));
      for (const rule of [...DEFAULT_VALUE_RULES, IP_ADDRESS_RULE])
        expect(covered).to.include(rule.name);
    });
  });

  describe('key rules', () => {
    const matcher = new KeyMatcher(DEFAULT_KEY_RULES);
    const cases: ReadonlyArray<[string, string | undefined]> = [
      ['password', 'password'],
      ['Password', 'password'],
      ['user_password', 'password'],
      ['PASSWD', 'password'],
      ['client_secret', 'secret'],
      ['aws.secretAccessKey', 'secret'],
      ['refresh-token', 'token'],
      ['accessToken', 'token'],
      ['authorization', 'authorization'],
      ['http.request.header.authorization', 'authorization'],
      ['Set-Cookie', 'cookie'],
      ['x-api-key', 'api-key'],
      ['api_key', 'api-key'],
      ['http.request.header.x-api-key', 'api-key'],
      ['aws_access_key_id', 'api-key'],
      ['private_key', 'private-key'],
      ['credentials', 'credentials'],
      ['card_number', 'card'],
      ['cvv', 'card'],
      ['user.id', undefined],
      ['http.request.id', undefined],
      ['http.route', undefined],
      ['orderId', undefined],
      ['author', undefined],
      ['company', undefined],
      ['span', undefined],
    ];
    for (const [key, rule] of cases) {
      it(`${key} → ${rule ?? 'no rule'}`, () => {
        expect(matcher.ruleFor(key)?.name).to.equal(rule);
      });
    }
    it('redact the value whole, whatever it is, at any depth of attributes and of a map body', () => {
      const r = redactor();
      const attributes: Attributes = {
        user: 'u-42',
        password: 'hunter2',
        session: { token: 12345, meta: [{ cookie: ['a', 'b'] }, 'plain'] },
      };
      expect(r.attributes(attributes)).to.deep.equal({
        user: 'u-42',
        password: '****',
        session: { token: '****', meta: [{ cookie: '****' }, 'plain'] },
      });
      expect(r.body({ request: { headers: { Authorization: 'x' } }, n: 1 })).to.deep.equal({
        request: { headers: { Authorization: '****' } },
        n: 1,
      });
      expect(r.counts().get('password')).to.equal(1);
      expect(r.counts().get('token')).to.equal(1);
      expect(r.counts().get('cookie')).to.equal(1);
      expect(r.counts().get('authorization')).to.equal(1);
    });
  });

  describe('values', () => {
    it('an exception message and stack are scanned like any string', () => {
      const r = redactor();
      const out = r.attributes({
        'exception.message': 'login failed for jane@example.com',
        'exception.stacktrace': 'Error: login failed for jane@example.com\n    at f (a.js:1:1)',
      });
      expect(JSON.stringify(out)).not.to.include('jane@example.com');
    });
    it('a card number logged as a number', () => {
      const r = redactor();
      expect(r.attributes({ amount: 4111111111111111, ts: 1733097600000 })).to.deep.equal({
        amount: '****',
        ts: 1733097600000,
      });
    });
    it('nothing found: the same objects come back, not copies', () => {
      const r = redactor();
      const attributes = { a: 'order placed', cart: { skus: ['s-1', 's-2'], coupon: null } };
      expect(r.attributes(attributes)).to.equal(attributes);
      const body = { list: [1, 2, 'x'] };
      expect(r.body(body)).to.equal(body);
    });
    it('something found: the input is left as it was', () => {
      const r = redactor();
      const attributes = { nested: { password: 'p', list: ['a@b.example'] } };
      const before = JSON.stringify(attributes);
      r.attributes(attributes);
      expect(JSON.stringify(attributes)).to.equal(before);
    });
    it('several secrets in one string, overlapping matches merged', () => {
      const r = redactor();
      expect(r.body(`a@b.io and password=${JWT} and AKIAIOSFODNN7EXAMPLE`)).to.equal(
        '**** and password=**** and ****',
      );
    });
  });

  describe('actions', () => {
    it('remove: the attribute goes; a match inside a string is cut out', () => {
      const r = redactor({ actions: { password: 'remove', email: 'remove' } });
      expect(r.attributes({ password: 'x', note: 'to a@b.example now' })).to.deep.equal({
        note: 'to  now',
      });
    });
    it('hash: the same value gives the same HMAC in every record, a different one another', () => {
      const r = redactor({ actions: { email: 'hash', token: 'hash' }, hashKey: 'k1' });
      const one = r.body('user jane@example.com') as string;
      const two = r.body('again jane@example.com') as string;
      const other = r.body('user john@example.com') as string;
      expect(one).to.match(/^user hmac:[0-9a-f]{32}$/);
      expect(one.slice(5)).to.equal(two.slice(6));
      expect(other.slice(5)).not.to.equal(one.slice(5));
      expect(r.attributes({ token: 42 })).to.deep.equal({
        token: (r.attributes({ token: 42 }) as { token: string }).token,
      });
      const withAnotherKey = redactor({ actions: { email: 'hash' }, hashKey: 'k2' });
      expect(withAnotherKey.body('user jane@example.com')).not.to.equal(one);
    });
    it('hash without a key masks', () => {
      const r = redactor({ actions: { email: 'hash' } });
      expect(r.body('user jane@example.com')).to.equal('user ****');
    });
  });

  describe('safety', () => {
    it('a rule that throws masks the whole value, and the warning does not contain it', () => {
      const broken: ValueRule = {
        name: 'broken',
        find: () => {
          throw new Error('boom');
        },
      };
      const r = redactor({ valueRules: [broken] });
      expect(r.body('the secret text')).to.equal('****');
      expect(r.counts().get('broken')).to.equal(1);
      expect(diag.warnings.join('\n')).to.match(/OTW019.*"broken" failed/);
      expect(diag.warnings.join('\n')).not.to.include('the secret text');
    });
    it('a string longer than maxScanLength is cut there, and says how much was not scanned', () => {
      const r = redactor({ maxScanLength: 100 });
      const text = `${'x'.repeat(90)} a@b.example ${'y'.repeat(200)} c@d.example`;
      const out = r.body(text) as string;
      expect(out).to.match(/^x{90} \*{4}/);
      expect(out.endsWith(`[otel-winston: ${text.length - 100} characters not scanned]`)).to.equal(
        true,
      );
      expect(out).not.to.include('c@d.example');
    });

    // Adversarial inputs: what would make a backtracking pattern quadratic. 256 KiB of each is
    // scanned well within the time; a quadratic rule would need on the order of 10^10 steps.
    const N = 256 * 1024;
    const adversarial: Record<string, string> = {
      'a run of token characters': 'a'.repeat(N),
      'JWT prefixes with no dots': 'eyJ'.repeat(N / 3),
      'a JWT with no end': `eyJ${'a'.repeat(N)}.eyJ${'b'.repeat(N)}`,
      'bearer with no token': 'Bearer '.repeat(N / 7),
      'keys with no value': 'password='.repeat(N / 9),
      'schemes with no credentials': 'a://b:'.repeat(N / 6),
      'emails with no domain end': `${'a'.repeat(64)}@${'b.'.repeat(N / 2)}`,
      'many at signs': 'a@'.repeat(N / 2),
      'digits with separators': '1 '.repeat(N / 2),
      'many BEGINs without END': '-----BEGIN RSA PRIVATE KEY-----'.repeat(N / 31),
      'hex and colons': 'a:'.repeat(N / 2),
      'dots and digits': '1.'.repeat(N / 2),
    };
    for (const [what, text] of Object.entries(adversarial)) {
      it(`runs in linear time on ${what} (${Math.round(text.length / 1024)} KiB)`, function () {
        this.timeout(20_000);
        const r = redactor();
        const started = process.hrtime.bigint();
        r.body(text);
        const millis = Number(process.hrtime.bigint() - started) / 1e6;
        // Linear: milliseconds. Quadratic: hours. The bound leaves room for a slow, busy machine.
        expect(millis).to.be.below(5000);
      });
    }
  });

  describe('isCardNumber', () => {
    it('takes the test numbers of the networks and refuses numbers with the wrong prefix or check digit', () => {
      for (const n of [
        '4111111111111111',
        '5555555555554444',
        '378282246310005',
        '6011111111111117',
        '3530111333300000',
        '30569309025904',
        '2223003122003222',
      ]) {
        expect(isCardNumber(n), n).to.equal(true);
      }
      for (const n of [
        '4111111111111112',
        '1733097600000',
        '9007199254740993',
        '1234567812345670',
        '4111111111111',
      ]) {
        expect(isCardNumber(n), n).to.equal(false);
      }
    });
  });

  it('patternRule: a user rule with a capture group', () => {
    const rule = patternRule('order-secret', /secret-order-([0-9]+)/, { group: 1 });
    const r = redactor({ valueRules: [rule] });
    expect(r.body('got secret-order-123 today')).to.equal('got secret-order-**** today');
  });
});
