import type { UserRole } from '../contract/env.ts';
import type { BodyAllowance } from './middleware/body-budget.ts';

/** The signed-in user, as the auth middleware puts it on `ctx.state.user`. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: UserRole;
}

/** Koa `ctx.state` for every route. */
export interface AppState {
  user?: SessionUser;
  /** The token the user presented, with its expiry (unix seconds, or null for none). */
  session?: { token: string; expiresAt: number | null };
  /** Why a presented token was not accepted; the guards answer 401 with it. */
  authError?: string;
  /** Set by the request-id middleware. */
  requestId?: string;
  /** This request's share of its user's request-body bytes (middleware/body-budget.ts); none when anonymous. */
  bodyAllowance?: BodyAllowance;
}
