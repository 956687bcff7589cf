import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { OtelWinstonError } from '../../src/index.js';
import { createIdentityVerifier, IDENTITY_REASONS } from '../../src/middleware/identity.js';

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
    ['another scheme', async () => 'Basic dXNlcjpwYXNz', IDENTITY_REASONS.TOKEN_MALFORMED],
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

  const badOptions: Array<[string, unknown, RegExp]> = [
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
      expect(() => createIdentityVerifier(options as never))
        .to.throw(OtelWinstonError, message)
        .with.property('code', 'OTW_ERR_INVALID_OPTION');
    });
  }
});
