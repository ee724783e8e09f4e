import type { UserRole } from '../../contract/env.ts';

export interface SignupInputs {
  userCount: number;
  /** The resolved ENABLE_SIGNUP and whether anyone chose it (env, admin, automatic close). */
  enableSignup: { value: boolean; explicit: boolean };
  enableLoginForm: boolean;
}

/**
 * Whether public signup is open. Open while no user exists (someone must
 * become admin). Once users exist it is open only if someone explicitly
 * enabled it (env or admin), so a config reset that wiped the saved
 * "closed" never reopens it by falling back to the default.
 */
export function signupOpen(i: SignupInputs): boolean {
  if (i.userCount === 0) return true;
  if (!i.enableLoginForm) return false;
  return i.enableSignup.explicit && i.enableSignup.value;
}

/** The first account ever is admin; later ones get DEFAULT_USER_ROLE. */
export function roleForNewAccount(userCount: number, defaultRole: UserRole): UserRole {
  return userCount === 0 ? 'admin' : defaultRole;
}
