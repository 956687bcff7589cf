import type { AttributeValue } from '@opentelemetry/api';

/**
 * Why a request has no verified user. Stable: a code is never reused for
 * something else. None of them carries any part of the token.
 */
export const IDENTITY_REASONS = {
  /** No `Authorization: Bearer` token: no header, or another scheme (`Basic …`). */
  TOKEN_MISSING: 'token_missing',
  /** Longer than `maxTokenLength`: not even parsed. */
  TOKEN_TOO_LARGE: 'token_too_large',
  /** Not a compact JWS JWT. */
  TOKEN_MALFORMED: 'token_malformed',
  /** Signed with an algorithm outside the allowlist, `none` included. */
  ALGORITHM_NOT_ALLOWED: 'algorithm_not_allowed',
  /** The signature does not verify with the configured key. */
  SIGNATURE_INVALID: 'signature_invalid',
  /** `exp` has passed (beyond the clock tolerance). */
  TOKEN_EXPIRED: 'token_expired',
  /** `nbf`, `iat`, `iss` or `aud` does not hold. */
  CLAIM_INVALID: 'claim_invalid',
  /** The token verified but has no usable user-id claim. */
  USER_CLAIM_MISSING: 'user_claim_missing',
  /** The JWKS has no key for the token's `kid`. */
  KEY_NOT_FOUND: 'key_not_found',
  /** The JWKS could not be fetched in time. */
  KEYS_UNAVAILABLE: 'keys_unavailable',
} as const;

/** A reason code of {@link IDENTITY_REASONS}. */
export type IdentityReason = (typeof IDENTITY_REASONS)[keyof typeof IDENTITY_REASONS];

/** The outcome of verifying a request's bearer token. */
export type IdentityResult =
  | {
      readonly verified: true;
      readonly userId: string;
      /** Attributes from mapped claims, such as `{ 'user.roles': ['admin'] }`. */
      readonly attributes: Readonly<Record<string, AttributeValue>>;
    }
  | { readonly verified: false; readonly reason: IdentityReason };
