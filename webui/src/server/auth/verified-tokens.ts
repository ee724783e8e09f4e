import { type TokenClaims, type VerifyResult, verifyToken } from './token.ts';

interface Entry {
  /** The key the signature was checked with: a token is trusted again only under the same key. */
  secret: string;
  claims: TokenClaims;
}

/** Default bound: a few MB at most (tokens are ~250 bytes), far more sessions than one replica serves. */
export const VERIFIED_TOKENS_MAX = 10_000;

/**
 * Tokens whose signature has been checked, with their claims. Every API call
 * presents the same token, and checking it again (an HMAC, two base64url
 * decodes and two JSON parses) was the largest single cost of authenticating
 * a call on the proxy's path. A token is kept only once it verified, under the
 * key it verified with, and its expiry is checked again on every use; the
 * account checks that follow (token version, role) are not cached here.
 * The oldest entries go first when the bound is reached.
 */
export class VerifiedTokens {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;

  constructor(maxEntries = VERIFIED_TOKENS_MAX) {
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  verify(token: string, secret: string, nowMs = Date.now()): VerifyResult {
    const hit = this.#entries.get(token);
    if (hit !== undefined && hit.secret === secret) {
      if (hit.claims.exp * 1000 > nowMs) return { ok: true, claims: hit.claims };
      this.#entries.delete(token);
      return { ok: false, reason: 'expired' };
    }
    const result = verifyToken(token, secret, nowMs);
    if (result.ok) {
      if (this.#entries.size >= this.#max) {
        const oldest = this.#entries.keys().next();
        if (oldest.done !== true) this.#entries.delete(oldest.value);
      }
      this.#entries.set(token, { secret, claims: result.claims });
    }
    return result;
  }
}
