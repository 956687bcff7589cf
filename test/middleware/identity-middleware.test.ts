import { expect } from 'chai';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ACCESS_EVENT,
  ATTR_IDENTITY_FAILURE_REASON,
  IDENTITY_EVENT,
  IDENTITY_REASONS,
  type IdentityReason,
} from '../../src/index.js';
import type { CapturedLogRecord } from '../../src/testing/index.js';
import { useDiagCapture } from '../helpers/diag.js';
import {
  FRAMEWORKS,
  recordsWhere,
  startApp,
  useGlobalCapture,
  type AppUnderTest,
  type Seen,
} from '../helpers/middleware-apps.js';

const SECRET = 'a-demo-secret-of-at-least-32-bytes!!';
const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

/** A claim value no record may ever show when its token fails. */
const MARKER = 'claim-marker-7f3a';

interface Case {
  readonly name: string;
  readonly app: 'hs' | 'rs';
  readonly authorization: () => Promise<string | undefined>;
  readonly user?: string;
  readonly reason?: IdentityReason;
  readonly roles?: string[];
}

describe('middleware: identity from a verified JWT, on every framework (real servers, real tokens)', () => {
  const diag = useDiagCapture();
  const { capture, logger } = useGlobalCapture();
  let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
  let otherRsa: { publicKey: CryptoKey; privateKey: CryptoKey };
  let pem: string;
  let jwks: Server;
  let jwksUrl: string;
  let jwksFetches = 0;

  before(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true });
    otherRsa = await generateKeyPair('RS256', { extractable: true });
    pem = await exportSPKI(rsa.publicKey);
    const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      jwksFetches++;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  });
  after(() => jwks.close());

  const hs256 = (sub: string, secret: string | Uint8Array = SECRET, exp = now() + 300) =>
    new SignJWT({ roles: ['admin'], note: MARKER })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);
  const rs256 = (sub: string, key: CryptoKey) =>
    new SignJWT({ roles: ['ops'], note: MARKER })
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .setSubject(sub)
      .setIssuer('https://id.test')
      .setAudience('shop')
      .setExpirationTime(now() + 300)
      .sign(key);
  const bearer = async (token: Promise<string> | string) => `Bearer ${await token}`;

  const cases: Case[] = [
    {
      name: 'a valid HS256 token',
      app: 'hs',
      authorization: () => bearer(hs256('ann')),
      user: 'ann',
      roles: ['admin'],
    },
    {
      name: 'a valid RS256 token, its key from the JWKS server',
      app: 'rs',
      authorization: () => bearer(rs256('bob', rsa.privateKey)),
      user: 'bob',
      roles: ['ops'],
    },
    {
      name: 'an expired token',
      app: 'hs',
      authorization: () => bearer(hs256(`mallory-${MARKER}`, SECRET, now() - 120)),
      reason: IDENTITY_REASONS.TOKEN_EXPIRED,
    },
    {
      name: 'an HS256 token signed with the wrong secret',
      app: 'hs',
      authorization: () =>
        bearer(hs256(`mallory-${MARKER}`, 'another-secret-of-at-least-32-bytes!!')),
      reason: IDENTITY_REASONS.SIGNATURE_INVALID,
    },
    {
      name: 'an RS256 token signed with the wrong private key',
      app: 'rs',
      authorization: () => bearer(rs256(`mallory-${MARKER}`, otherRsa.privateKey)),
      reason: IDENTITY_REASONS.SIGNATURE_INVALID,
    },
    {
      name: 'alg: none (HS256 app)',
      app: 'hs',
      authorization: async () =>
        `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: `mallory-${MARKER}`, exp: now() + 300 })}.`,
      reason: IDENTITY_REASONS.ALGORITHM_NOT_ALLOWED,
    },
    {
      name: 'alg: none (RS256 app)',
      app: 'rs',
      authorization: async () =>
        `Bearer ${b64({ alg: 'none' })}.${b64({ sub: `mallory-${MARKER}`, iss: 'https://id.test', aud: 'shop' })}.`,
      reason: IDENTITY_REASONS.ALGORITHM_NOT_ALLOWED,
    },
    {
      name: 'algorithm confusion: HS256 signed with the RSA public key',
      app: 'rs',
      authorization: () =>
        bearer(
          new SignJWT({ note: MARKER })
            .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
            .setSubject(`mallory-${MARKER}`)
            .setIssuer('https://id.test')
            .setAudience('shop')
            .setExpirationTime(now() + 300)
            .sign(new TextEncoder().encode(pem)),
        ),
      reason: IDENTITY_REASONS.ALGORITHM_NOT_ALLOWED,
    },
    {
      name: 'a malformed token',
      app: 'hs',
      authorization: async () => `Bearer ${b64({ sub: MARKER })}.not-a-signature-${MARKER}`,
      reason: IDENTITY_REASONS.TOKEN_MALFORMED,
    },
    {
      name: 'a Basic credential instead of a bearer token',
      app: 'hs',
      authorization: async () => `Basic ${Buffer.from(`mallory:${MARKER}`).toString('base64')}`,
      reason: IDENTITY_REASONS.TOKEN_MISSING,
    },
    {
      name: 'a 10 KB Authorization header',
      app: 'hs',
      authorization: async () => `Bearer ${b64({ alg: 'HS256' })}.${'A'.repeat(10_240)}${MARKER}.x`,
      reason: IDENTITY_REASONS.TOKEN_TOO_LARGE,
    },
    {
      name: 'no token at all',
      app: 'hs',
      authorization: async () => undefined,
      reason: 'token_missing',
    },
  ];

  /** Every piece of a record a token or its claims could leak into. */
  const recordText = (records: readonly CapturedLogRecord[]): string =>
    JSON.stringify(records.map((r) => [r.body, r.attributes, r.eventName]));

  for (const framework of FRAMEWORKS) {
    describe(framework, () => {
      const apps: Partial<Record<'hs' | 'rs', AppUnderTest>> = {};
      before(async () => {
        apps.hs = await startApp(framework, logger, {
          jwt: { algorithms: ['HS256'], secret: SECRET, claimAttributes: { roles: 'user.roles' } },
        });
        apps.rs = await startApp(framework, logger, {
          jwt: {
            algorithms: ['RS256'],
            jwksUrl,
            issuer: 'https://id.test',
            audience: 'shop',
            claimAttributes: { roles: 'user.roles' },
          },
        });
      });
      after(async () => {
        await apps.hs?.close();
        await apps.rs?.close();
      });

      for (const c of cases) {
        it(`${c.name}: ${c.user !== undefined ? `user ${c.user}` : `no user, ${c.reason}`}`, async () => {
          const authorization = await c.authorization();
          const res = await fetch(`${apps[c.app]!.url}/users/42?wait=3`, {
            headers: authorization !== undefined ? { authorization } : {},
          });
          expect(res.status).to.equal(200);
          const seen = (await res.json()) as Seen;
          const records = await recordsWhere(capture, (rs) =>
            rs.some((r) => r.eventName === ACCESS_EVENT),
          );

          // The handler sees the user (or none) and the outcome, before and after an await.
          for (const ctx of [seen.before, seen.after]) {
            expect(ctx?.userId).to.equal(c.user);
            expect(ctx?.identity).to.deep.equal(
              c.user !== undefined
                ? { verified: true, userId: c.user, attributes: { 'user.roles': c.roles } }
                : { verified: false, reason: c.reason },
            );
          }
          const handled = records.filter((r) => r.body === 'handling' || r.body === 'handled');
          expect(handled).to.have.length(2);
          const access = records.filter((r) => r.eventName === ACCESS_EVENT);
          expect(access).to.have.length(1);
          for (const r of [...handled, ...access]) {
            expect(r.attributes['user.id'], String(r.body)).to.equal(c.user);
            expect(r.attributes['user.roles']).to.deep.equal(c.roles);
          }

          const warnings = records.filter((r) => r.eventName === IDENTITY_EVENT);
          // No token is not a problem by default (warnOnMissingToken: false); a bad one is.
          if (c.user !== undefined || c.reason === IDENTITY_REASONS.TOKEN_MISSING) {
            expect(warnings).to.have.length(0);
          } else {
            expect(warnings).to.have.length(1);
            expect(warnings[0]!.severityText).to.equal('warn');
            expect(warnings[0]!.attributes[ATTR_IDENTITY_FAILURE_REASON]).to.equal(c.reason);
            expect(warnings[0]!.attributes['http.request.id']).to.equal(seen.before?.requestId);
            expect(warnings[0]!.body).to.equal(`request without a verified user: ${c.reason}`);
          }

          // Never the token, any part of it, or any of its claims.
          const text = recordText(records);
          if (authorization !== undefined) {
            for (const part of authorization
              .slice(7)
              .split('.')
              .filter((p) => p.length >= 8)) {
              expect(text).not.to.include(part.slice(0, 40));
            }
          }
          expect(text).not.to.include(MARKER);
          expect(text).not.to.include('mallory');
          expect(diag.warnings).to.deep.equal([]);
        });
      }

      it('warnOnMissingToken: true — an anonymous request gets its WARN too', async () => {
        const app = await startApp(framework, logger, {
          jwt: { algorithms: ['HS256'], secret: SECRET },
          warnOnMissingToken: true,
        });
        try {
          for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }]) {
            capture.reset();
            const seen = (await (await fetch(`${app.url}/users/1`, { headers })).json()) as Seen;
            expect(seen.before?.identity).to.deep.equal({
              verified: false,
              reason: 'token_missing',
            });
            const records = await recordsWhere(capture, (rs) =>
              rs.some((r) => r.eventName === IDENTITY_EVENT),
            );
            const warning = records.find((r) => r.eventName === IDENTITY_EVENT)!;
            expect(warning.attributes[ATTR_IDENTITY_FAILURE_REASON]).to.equal('token_missing');
          }
        } finally {
          await app.close();
        }
      });
    });
  }

  describe('the JWKS', () => {
    it('is fetched once per verifier and cached across requests', async () => {
      const app = await startApp('http', logger, {
        jwt: { algorithms: ['RS256'], jwksUrl, issuer: 'https://id.test', audience: 'shop' },
      });
      try {
        const before = jwksFetches;
        for (const user of ['u1', 'u2', 'u3', 'u4']) {
          const res = await fetch(`${app.url}/users/1`, {
            headers: { authorization: await bearer(rs256(user, rsa.privateKey)) },
          });
          expect(((await res.json()) as Seen).before?.userId).to.equal(user);
        }
        expect(jwksFetches - before).to.equal(1);
      } finally {
        await app.close();
      }
    });
  });
});
