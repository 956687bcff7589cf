import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importPKCS8,
  SignJWT,
  type CryptoKey,
} from 'jose';
import { OtelWinstonError } from '../../src/index.js';
import { IDENTITY_REASONS } from '../../src/context/identity-result.js';
import { createIdentityVerifier } from '../../src/middleware/identity.js';

const SECRET = 'a-demo-secret-of-at-least-32-bytes!!';
const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

async function hs256(
  claims: Record<string, unknown>,
  secret = SECRET,
  expiresIn: string | number = '5m',
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(claims.sub ?? 'user-1'))
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

describe('middleware: createIdentityVerifier (real tokens signed with jose)', () => {
  let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
  let pem: string;
  let jwks: Server;
  let jwksUrl: string;

  before(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true });
    pem = await exportSPKI(rsa.publicKey);
    const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  });
  after(() => jwks.close());

  const rs256 = (claims: Record<string, unknown>, kid = 'key-1') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setSubject('rs-user')
      .setIssuer('https://id.test')
      .setAudience('shop')
      .setExpirationTime('5m')
      .sign(rsa.privateKey);

  it('a key rotated into the JWKS: picked up after jwksCooldownMillis (30 s by default, 0 here at once)', async () => {
    const next = await generateKeyPair('RS256', { extractable: true });
    const keys = [{ ...(await exportJWK(rsa.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' }];
    let fetches = 0;
    const rotating = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => rotating.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(rotating.address() as AddressInfo).port}/jwks.json`;
    try {
      const byDefault = createIdentityVerifier({ algorithms: ['RS256'], jwksUrl: url });
      const atOnce = createIdentityVerifier({
        algorithms: ['RS256'],
        jwksUrl: url,
        jwksCooldownMillis: 0,
      });
      const first = `Bearer ${await rs256({})}`;
      expect(await byDefault(first)).to.include({ verified: true });
      expect(await atOnce(first)).to.include({ verified: true });
      // The issuer rotates key-2 in; its tokens arrive right after.
      keys.push({ ...(await exportJWK(next.publicKey)), kid: 'key-2', alg: 'RS256', use: 'sig' });
      const rotated = `Bearer ${await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'key-2' })
        .setSubject('rs-user')
        .setExpirationTime('5m')
        .sign(next.privateKey)}`;
      const before = fetches;
      expect(await byDefault(rotated)).to.deep.equal({
        verified: false,
        reason: IDENTITY_REASONS.KEY_NOT_FOUND,
      });
      expect(fetches, 'the default waits out its cooldown').to.equal(before);
      expect(await atOnce(rotated)).to.include({ verified: true, userId: 'rs-user' });
      expect(fetches).to.equal(before + 1);
    } finally {
      rotating.close();
    }
  });

  it('HS256: a valid token gives the user and the mapped claims', async () => {
    const verify = createIdentityVerifier({
      algorithms: ['HS256'],
      secret: SECRET,
      claimAttributes: { roles: 'user.roles', nested: 'x' },
    });
    const result = await verify(
      `Bearer ${await hs256({ sub: 'ann', roles: ['admin', 'ops'], nested: { a: 1 } })}`,
    );
    expect(result).to.deep.equal({
      verified: true,
      userId: 'ann',
      attributes: { 'user.roles': ['admin', 'ops'] },
    });
  });

  it('RS256 with keys from a JWKS URL (cached), and with a PEM public key; issuer and audience checked', async () => {
    const fromJwks = createIdentityVerifier({
      algorithms: ['RS256'],
      jwksUrl,
      issuer: 'https://id.test',
      audience: 'shop',
    });
    const fromPem = createIdentityVerifier({
      algorithms: ['RS256'],
      publicKey: pem,
      issuer: 'https://id.test',
      audience: 'shop',
    });
    const token = await rs256({});
    expect(await fromJwks(`Bearer ${token}`)).to.include({ verified: true, userId: 'rs-user' });
    expect(await fromPem(`Bearer ${token}`)).to.include({ verified: true, userId: 'rs-user' });
    const otherAudience = createIdentityVerifier({
      algorithms: ['RS256'],
      jwksUrl,
      audience: 'billing',
    });
    expect(await otherAudience(`Bearer ${token}`)).to.deep.equal({
      verified: false,
      reason: IDENTITY_REASONS.CLAIM_INVALID,
    });
  });

  const cases: Array<[string, () => Promise<string | undefined>, string]> = [
    ['no header', async () => undefined, IDENTITY_REASONS.TOKEN_MISSING],
    [
      'an expired token',
      async () =>
        `Bearer ${await hs256({ sub: 'ann' }, SECRET, Math.floor(Date.now() / 1000) - 60)}`,
      IDENTITY_REASONS.TOKEN_EXPIRED,
    ],
    [
      'a token signed with another key',
      async () => `Bearer ${await hs256({ sub: 'ann' }, 'another-secret-that-is-32-bytes-long!!')}`,
      IDENTITY_REASONS.SIGNATURE_INVALID,
    ],
    [
      'alg: none',
      async () => `Bearer ${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'admin' })}.`,
      IDENTITY_REASONS.ALGORITHM_NOT_ALLOWED,
    ],
    ['a malformed token', async () => 'Bearer not.a.jwt', IDENTITY_REASONS.TOKEN_MALFORMED],
    ['another scheme', async () => 'Basic dXNlcjpwYXNz', IDENTITY_REASONS.TOKEN_MISSING],
    ['a bearer scheme without a token', async () => 'Bearer', IDENTITY_REASONS.TOKEN_MALFORMED],
    [
      'a 10 KB header',
      async () => `Bearer ${'a'.repeat(10 * 1024)}`,
      IDENTITY_REASONS.TOKEN_TOO_LARGE,
    ],
  ];
  for (const [name, header, reason] of cases) {
    it(`${name}: no user, reason ${reason}, and no token text in the result`, async () => {
      const verify = createIdentityVerifier({ algorithms: ['HS256'], secret: SECRET });
      const value = await header();
      const result = await verify(value);
      expect(result).to.deep.equal({ verified: false, reason });
      for (const part of (value ?? '')
        .replace(/^\w+ /, '')
        .split('.')
        .filter((p) => p.length > 8)) {
        expect(JSON.stringify(result)).to.not.include(part);
      }
    });
  }

  it('algorithm confusion: HS256 signed with the RSA public key is refused, never verified as HMAC', async () => {
    const forged = await new SignJWT({ sub: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(pem));
    for (const verify of [
      createIdentityVerifier({ algorithms: ['RS256'], publicKey: pem }),
      createIdentityVerifier({ algorithms: ['RS256'], jwksUrl }),
    ]) {
      expect(await verify(`Bearer ${forged}`)).to.deep.equal({
        verified: false,
        reason: IDENTITY_REASONS.ALGORITHM_NOT_ALLOWED,
      });
    }
  });

  it('an unknown kid: key_not_found; a JWKS that cannot be reached: keys_unavailable', async () => {
    const verify = createIdentityVerifier({ algorithms: ['RS256'], jwksUrl });
    expect(await verify(`Bearer ${await rs256({}, 'key-2')}`)).to.deep.equal({
      verified: false,
      reason: IDENTITY_REASONS.KEY_NOT_FOUND,
    });
    const unreachable = createIdentityVerifier({
      algorithms: ['RS256'],
      jwksUrl: 'http://127.0.0.1:9/jwks.json',
      jwksTimeoutMillis: 500,
    });
    expect(await unreachable(`Bearer ${await rs256({})}`)).to.deep.equal({
      verified: false,
      reason: IDENTITY_REASONS.KEYS_UNAVAILABLE,
    });
  });

  it('a verified token without the user claim gives no user', async () => {
    const verify = createIdentityVerifier({
      algorithms: ['HS256'],
      secret: SECRET,
      userIdClaim: 'uid',
    });
    expect(await verify(`Bearer ${await hs256({ sub: 'ann' })}`)).to.deep.equal({
      verified: false,
      reason: IDENTITY_REASONS.USER_CLAIM_MISSING,
    });
  });

  it('a PEM key serves every algorithm of its family in the allowlist (RS256 and RS384), and ES256 keys work', async () => {
    const verify = createIdentityVerifier({ algorithms: ['RS256', 'RS384'], publicKey: pem });
    const pkcs8 = await exportPKCS8(rsa.privateKey);
    for (const alg of ['RS384', 'RS256', 'RS384']) {
      // WebCrypto binds a key to one algorithm: the same RSA key, imported for each.
      const token = await new SignJWT({})
        .setProtectedHeader({ alg })
        .setSubject(`via-${alg}`)
        .setExpirationTime('5m')
        .sign(await importPKCS8(pkcs8, alg));
      expect(await verify(`Bearer ${token}`)).to.deep.include({
        verified: true,
        userId: `via-${alg}`,
      });
    }
    const ec = await generateKeyPair('ES256', { extractable: true });
    const verifyEc = createIdentityVerifier({
      algorithms: ['ES256'],
      publicKey: await exportSPKI(ec.publicKey),
    });
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('ec')
      .setExpirationTime('5m')
      .sign(ec.privateKey);
    expect(await verifyEc(`Bearer ${token}`)).to.deep.include({ verified: true, userId: 'ec' });
  });

  it('a token without exp is refused (claim_invalid), unless requireExpiration is false', async () => {
    const forever = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('forever')
      .sign(new TextEncoder().encode(SECRET));
    const strict = createIdentityVerifier({ algorithms: ['HS256'], secret: SECRET });
    expect(await strict(`Bearer ${forever}`)).to.deep.equal({
      verified: false,
      reason: IDENTITY_REASONS.CLAIM_INVALID,
    });
    const lenient = createIdentityVerifier({
      algorithms: ['HS256'],
      secret: SECRET,
      requireExpiration: false,
    });
    expect(await lenient(`Bearer ${forever}`)).to.deep.include({
      verified: true,
      userId: 'forever',
    });
  });

  it('a header value that is not a string (a framework gave an array) is malformed, not missing', async () => {
    const verify = createIdentityVerifier({ algorithms: ['HS256'], secret: SECRET });
    const token = await hs256({ sub: 'ann' });
    expect(await verify([`Bearer ${token}`, 'Bearer x'])).to.deep.equal({
      verified: false,
      reason: IDENTITY_REASONS.TOKEN_MALFORMED,
    });
  });

  const badOptions: Array<[string, unknown, RegExp]> = [
    [
      'a public key that is not a PEM (caught at start-up, not per request)',
      { algorithms: ['RS256'], publicKey: 'x' },
      /Expected `jwt.publicKey` to be a PEM public key/,
    ],
    [
      'an RSA key for ES256',
      { algorithms: ['ES256'], publicKey: 'RSA-PEM' },
      /Expected `jwt.algorithms` to be algorithms an RSA key can verify, got `"ES256"`/,
    ],
    [
      'a maxTokenLength that is a string',
      { algorithms: ['HS256'], secret: SECRET, maxTokenLength: '10' },
      /`jwt.maxTokenLength`/,
    ],
    [
      'a negative jwksTimeoutMillis',
      { algorithms: ['RS256'], jwksUrl: 'http://x', jwksTimeoutMillis: -1 },
      /`jwt.jwksTimeoutMillis`/,
    ],
    ['an empty issuer', { algorithms: ['HS256'], secret: SECRET, issuer: '' }, /`jwt.issuer`/],
    [
      'an empty audience list',
      { algorithms: ['HS256'], secret: SECRET, audience: [] },
      /`jwt.audience`/,
    ],
    [
      'a claim mapped to a number',
      { algorithms: ['HS256'], secret: SECRET, claimAttributes: { roles: 1 } },
      /`jwt.claimAttributes.roles`/,
    ],
    [
      'a requireExpiration that is a string',
      { algorithms: ['HS256'], secret: SECRET, requireExpiration: 'yes' },
      /`jwt.requireExpiration`/,
    ],
    ['no allowlist', { secret: SECRET }, /Expected `jwt.algorithms` to be a non-empty array/],
    [
      'two key sources',
      { algorithms: ['RS256'], publicKey: 'x', jwksUrl: 'http://x' },
      /exactly one of `jwt.secret`, `jwt.publicKey` and `jwt.jwksUrl`, got 2/,
    ],
    [
      'none',
      { algorithms: ['none'], secret: SECRET },
      /Expected `jwt.algorithms` to be JWS algorithm names/,
    ],
    [
      'HMAC with a public key',
      { algorithms: ['HS256'], publicKey: 'x' },
      /asymmetric algorithms for a public key or JWKS/,
    ],
    [
      'RSA with a secret',
      { algorithms: ['RS256'], secret: SECRET },
      /HMAC algorithms \(HS\*\) for a secret/,
    ],
    [
      'a short secret',
      { algorithms: ['HS256'], secret: 'short' },
      /Expected `jwt.secret` to be at least 32 bytes/,
    ],
    [
      'a JWKS URL that is not a URL',
      { algorithms: ['RS256'], jwksUrl: 'not a url' },
      /Expected `jwt.jwksUrl` to be an absolute URL/,
    ],
  ];
  for (const [name, options, message] of badOptions) {
    it(`refuses options with ${name}, with a coded error`, () => {
      const o = options as { publicKey?: string };
      if (o.publicKey === 'RSA-PEM') o.publicKey = pem;
      expect(() => createIdentityVerifier(options as never))
        .to.throw(OtelWinstonError, message)
        .with.property('code', 'OTW_ERR_INVALID_OPTION');
    });
  }
});
