import type { AttributeValue } from '@opentelemetry/api';
import type { Defaults } from '../defaults.js';
import type { CryptoKey, JWTPayload, JWTVerifyGetKey } from 'jose';
import { createPublicKey } from 'node:crypto';
import { checkInteger, invalidOption, OtelWinstonError } from '../errors.js';
import { requireHere } from '#require-here';
import {
  IDENTITY_REASONS,
  type IdentityReason,
  type IdentityResult,
} from '../context/identity-result.js';

type Jose = typeof import('jose');

/** How bearer tokens are verified. Exactly one of `secret`, `publicKey` and `jwksUrl`. */
export interface JwtVerificationOptions {
  /**
   * The algorithms accepted; required. `none` is never accepted.
   * @example ['RS256']
   */
  algorithms: readonly string[];
  /**
   * An HMAC secret, for HS256, HS384, HS512.
   * @default none
   */
  secret?: string | Uint8Array;
  /**
   * A PEM public key (SPKI), for RS*, PS*, ES* and EdDSA. It is checked at once:
   * a key that does not parse, or does not suit every listed algorithm, is an error.
   * @default none
   */
  publicKey?: string;
  /**
   * A JWKS URL; its keys are fetched once and cached, and fetched again for an unknown `kid`.
   * @default none
   */
  jwksUrl?: string | URL;
  /**
   * The expected `iss`.
   * @default not checked
   */
  issuer?: string | readonly string[];
  /**
   * The expected `aud`.
   * @default not checked
   */
  audience?: string | readonly string[];
  /**
   * Seconds of clock skew allowed for `exp`, `nbf` and `iat`.
   * @default 5
   */
  clockToleranceSeconds?: number;
  /**
   * The claim that holds the user id.
   * @default 'sub'
   */
  userIdClaim?: string;
  /**
   * Further claims to put on records, claim name → attribute key.
   * @default {}
   * @example { roles: 'user.roles', tenant: 'tenant.id' }
   */
  claimAttributes?: Readonly<Record<string, string>>;
  /**
   * Refuse tokens without an `exp` claim (`claim_invalid`): a token that never
   * expires stays valid forever once leaked.
   * @default true
   */
  requireExpiration?: boolean;
  /**
   * Longest token considered, in characters; longer ones are refused unparsed.
   * @default 8192
   */
  maxTokenLength?: number;
  /**
   * How long fetching the JWKS may take, in milliseconds.
   * @default 5000
   */
  jwksTimeoutMillis?: number;
  /**
   * After the JWKS was fetched, how long a token with a `kid` it does not hold
   * waits before the JWKS is fetched again for it (`key_not_found` until then):
   * a key rotated in is picked up after at most this long. A bound on how
   * often tokens with made-up `kid`s make the JWKS be fetched.
   * @default 30000
   */
  jwksCooldownMillis?: number;
}

/** The fixed default of each {@link JwtVerificationOptions} option that has one. */
export const JWT_DEFAULTS = {
  clockToleranceSeconds: 5,
  userIdClaim: 'sub',
  claimAttributes: {},
  requireExpiration: true,
  maxTokenLength: 8192,
  jwksTimeoutMillis: 5000,
  jwksCooldownMillis: 30_000,
} as const satisfies Defaults<JwtVerificationOptions>;

const HMAC = /^HS(256|384|512)$/;
const ASYMMETRIC = /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/;
const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/-]+=*)[ \t]*$/i;
/** The scheme of an Authorization header: a bearer token, or another credential (`Basic …`). */
const BEARER_SCHEME = /^Bearer(?:[ \t]|$)/i;

function check(options: unknown): JwtVerificationOptions {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('jwt', 'an object', options);
  const o = options as JwtVerificationOptions;
  if (!Array.isArray(o.algorithms) || o.algorithms.length === 0) {
    throw invalidOption(
      'jwt.algorithms',
      'a non-empty array of algorithm names (an allowlist is required)',
      o.algorithms,
    );
  }
  const sources = [o.secret, o.publicKey, o.jwksUrl].filter((s) => s !== undefined).length;
  if (sources !== 1) {
    throw new OtelWinstonError(
      'OTW_ERR_INVALID_OPTION',
      `Expected exactly one of \`jwt.secret\`, \`jwt.publicKey\` and \`jwt.jwksUrl\`, got ${sources}`,
    );
  }
  for (const alg of o.algorithms) {
    const symmetric = HMAC.test(String(alg));
    if (!symmetric && !ASYMMETRIC.test(String(alg))) {
      throw invalidOption(
        'jwt.algorithms',
        'JWS algorithm names such as HS256, RS256, ES256 (never none)',
        alg,
      );
    }
    // An HMAC algorithm next to a public key is the algorithm-confusion hole: refuse it.
    if (symmetric !== (o.secret !== undefined)) {
      throw invalidOption(
        'jwt.algorithms',
        o.secret !== undefined
          ? 'HMAC algorithms (HS*) for a secret'
          : 'asymmetric algorithms for a public key or JWKS',
        alg,
      );
    }
  }
  if (
    o.secret !== undefined &&
    !(typeof o.secret === 'string' ? o.secret.length >= 32 : o.secret.byteLength >= 32)
  ) {
    throw invalidOption(
      'jwt.secret',
      'at least 32 bytes',
      typeof o.secret === 'string' ? '(a shorter string)' : '(fewer bytes)',
    );
  }
  if (o.jwksUrl !== undefined && !URL.canParse(String(o.jwksUrl))) {
    throw invalidOption('jwt.jwksUrl', 'an absolute URL', String(o.jwksUrl));
  }
  if (o.userIdClaim !== undefined && (typeof o.userIdClaim !== 'string' || o.userIdClaim === '')) {
    throw invalidOption('jwt.userIdClaim', 'a claim name', o.userIdClaim);
  }
  checkInteger('jwt.maxTokenLength', o.maxTokenLength, 16, 1_048_576);
  checkInteger('jwt.jwksTimeoutMillis', o.jwksTimeoutMillis, 1, 600_000);
  checkInteger('jwt.jwksCooldownMillis', o.jwksCooldownMillis, 0, 86_400_000);
  for (const name of ['issuer', 'audience'] as const) {
    const value: unknown = o[name];
    const ok =
      value === undefined ||
      (typeof value === 'string' && value !== '') ||
      (Array.isArray(value) &&
        value.length > 0 &&
        value.every((v) => typeof v === 'string' && v !== ''));
    if (!ok) throw invalidOption(`jwt.${name}`, 'a string or a non-empty array of strings', value);
  }
  if (o.claimAttributes !== undefined) {
    const map: unknown = o.claimAttributes;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw invalidOption('jwt.claimAttributes', 'an object of claim name to attribute key', map);
    }
    for (const [claim, key] of Object.entries(map)) {
      if (typeof key !== 'string' || key === '') {
        throw invalidOption(`jwt.claimAttributes.${claim}`, 'an attribute key', key);
      }
    }
  }
  if (o.requireExpiration !== undefined && typeof o.requireExpiration !== 'boolean') {
    throw invalidOption('jwt.requireExpiration', 'a boolean', o.requireExpiration);
  }
  if (o.publicKey !== undefined) checkPublicKey(o.publicKey, o.algorithms);
  const tolerance = o.clockToleranceSeconds;
  if (
    tolerance !== undefined &&
    !(typeof tolerance === 'number' && tolerance >= 0 && tolerance <= 3600)
  ) {
    throw invalidOption(
      'jwt.clockToleranceSeconds',
      'a number of seconds from 0 to 3600',
      tolerance,
    );
  }
  return o;
}

/** The key types each family of JWS algorithms can verify with. */
function keyTypesOf(alg: string): readonly string[] {
  if (alg.startsWith('RS')) return ['rsa'];
  if (alg.startsWith('PS')) return ['rsa', 'rsa-pss'];
  if (alg.startsWith('ES')) return ['ec'];
  return ['ed25519', 'ed448'];
}

/** A PEM that does not parse, or a key that cannot verify a listed algorithm, fails at start-up. */
function checkPublicKey(pem: unknown, algorithms: readonly string[]): void {
  let type: string | undefined;
  try {
    if (typeof pem !== 'string') throw new TypeError('not a string');
    type = createPublicKey(pem).asymmetricKeyType;
  } catch {
    throw invalidOption(
      'jwt.publicKey',
      'a PEM public key (-----BEGIN PUBLIC KEY-----)',
      typeof pem === 'string' ? '(a string that is not one)' : pem,
    );
  }
  for (const alg of algorithms) {
    if (type === undefined || !keyTypesOf(alg).includes(type)) {
      const name = (type ?? 'unknown').toUpperCase().replace('ED', 'Ed');
      throw invalidOption('jwt.algorithms', `algorithms an ${name} key can verify`, alg);
    }
  }
}

function reasonOf(errors: Jose['errors'], error: unknown): IdentityReason {
  if (error instanceof errors.JWTExpired) return IDENTITY_REASONS.TOKEN_EXPIRED;
  if (error instanceof errors.JWTClaimValidationFailed) return IDENTITY_REASONS.CLAIM_INVALID;
  if (error instanceof errors.JOSEAlgNotAllowed) return IDENTITY_REASONS.ALGORITHM_NOT_ALLOWED;
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return IDENTITY_REASONS.SIGNATURE_INVALID;
  if (error instanceof errors.JWKSNoMatchingKey) return IDENTITY_REASONS.KEY_NOT_FOUND;
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return IDENTITY_REASONS.KEYS_UNAVAILABLE;
  if (error instanceof errors.JOSENotSupported) return IDENTITY_REASONS.ALGORITHM_NOT_ALLOWED;
  if (error instanceof errors.JOSEError) return IDENTITY_REASONS.TOKEN_MALFORMED;
  // Not jose's own verdict: the keys could not be had (a JWKS fetch failed: "fetch failed").
  return IDENTITY_REASONS.KEYS_UNAVAILABLE;
}

function claimValue(value: unknown): AttributeValue | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

/**
 * Makes a verifier of `Authorization` headers: `jose` checks the signature
 * against the configured key, with the algorithm allowlist, `exp`, `nbf`,
 * `iss` and `aud`. A token that fails gives a reason code and never a user.
 * Options are checked at once: a bad one throws an `OtelWinstonError`.
 *
 * @example
 * const verify = createIdentityVerifier({ algorithms: ['RS256'], jwksUrl: 'https://id.example/jwks.json' });
 * const identity = await verify(req.headers.authorization);
 */
export function createIdentityVerifier(
  options: JwtVerificationOptions,
): (authorization: unknown) => Promise<IdentityResult> {
  const o = check(options);
  // Loaded here, not when otel-winston is imported: only apps that verify tokens need it.
  const { createRemoteJWKSet, decodeProtectedHeader, errors, importSPKI, jwtVerify } = requireHere(
    'jose',
  ) as Jose;
  const maxLength = o.maxTokenLength ?? JWT_DEFAULTS.maxTokenLength;
  const userIdClaim = o.userIdClaim ?? JWT_DEFAULTS.userIdClaim;
  const claimAttributes = Object.entries<string>(o.claimAttributes ?? JWT_DEFAULTS.claimAttributes);
  const verifyOptions = {
    algorithms: [...o.algorithms],
    ...(o.issuer !== undefined ? { issuer: o.issuer as string | string[] } : {}),
    ...(o.audience !== undefined ? { audience: o.audience as string | string[] } : {}),
    clockTolerance: o.clockToleranceSeconds ?? JWT_DEFAULTS.clockToleranceSeconds,
    ...((o.requireExpiration ?? JWT_DEFAULTS.requireExpiration) ? { requiredClaims: ['exp'] } : {}),
  };

  // The key for a token's algorithm (already checked against the allowlist).
  let keyFor: (alg: string) => Uint8Array | JWTVerifyGetKey | Promise<CryptoKey>;
  if (o.secret !== undefined) {
    const secret = typeof o.secret === 'string' ? new TextEncoder().encode(o.secret) : o.secret;
    keyFor = () => secret;
  } else if (o.publicKey !== undefined) {
    // jose binds an imported key to one algorithm: import it once per algorithm, when first needed.
    const pem = o.publicKey;
    const imported = new Map<string, Promise<CryptoKey>>();
    keyFor = (alg) => {
      let found = imported.get(alg);
      if (found === undefined) imported.set(alg, (found = importSPKI(pem, alg)));
      return found;
    };
  } else {
    const getKey = createRemoteJWKSet(new URL(String(o.jwksUrl)), {
      timeoutDuration: o.jwksTimeoutMillis ?? JWT_DEFAULTS.jwksTimeoutMillis,
      cooldownDuration: o.jwksCooldownMillis ?? JWT_DEFAULTS.jwksCooldownMillis,
    });
    keyFor = () => getKey;
  }

  return async (authorization) => {
    if (authorization === undefined || authorization === '') {
      return { verified: false, reason: IDENTITY_REASONS.TOKEN_MISSING };
    }
    if (typeof authorization !== 'string') {
      return { verified: false, reason: IDENTITY_REASONS.TOKEN_MALFORMED };
    }
    // Another scheme (Basic, Digest, …) carries no bearer token: missing, not malformed.
    if (!BEARER_SCHEME.test(authorization.trimStart())) {
      return { verified: false, reason: IDENTITY_REASONS.TOKEN_MISSING };
    }
    if (authorization.length > maxLength + 16)
      return { verified: false, reason: IDENTITY_REASONS.TOKEN_TOO_LARGE };
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined) return { verified: false, reason: IDENTITY_REASONS.TOKEN_MALFORMED };
    if (token.length > maxLength)
      return { verified: false, reason: IDENTITY_REASONS.TOKEN_TOO_LARGE };
    let alg: string;
    try {
      const header = decodeProtectedHeader(token);
      if (typeof header.alg !== 'string' || !verifyOptions.algorithms.includes(header.alg)) {
        return { verified: false, reason: IDENTITY_REASONS.ALGORITHM_NOT_ALLOWED };
      }
      alg = header.alg;
    } catch {
      return { verified: false, reason: IDENTITY_REASONS.TOKEN_MALFORMED };
    }
    let payload: JWTPayload;
    try {
      const resolved = await keyFor(alg);
      ({ payload } = await jwtVerify(token, resolved as never, verifyOptions));
    } catch (error) {
      return { verified: false, reason: reasonOf(errors, error) };
    }
    const userId = payload[userIdClaim];
    if (typeof userId !== 'string' && typeof userId !== 'number') {
      return { verified: false, reason: IDENTITY_REASONS.USER_CLAIM_MISSING };
    }
    const attributes: Record<string, AttributeValue> = {};
    for (const [claim, attribute] of claimAttributes) {
      const value = claimValue(payload[claim]);
      if (value !== undefined) attributes[attribute] = value;
    }
    return { verified: true, userId: String(userId), attributes };
  };
}
