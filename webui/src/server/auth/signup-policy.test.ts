import { describe, expect, it } from 'vitest';
import { roleForNewAccount, signupOpen } from './signup-policy.ts';

const base = { enableLoginForm: true };

describe('signupOpen', () => {
  it('is open while no user exists, whatever ENABLE_SIGNUP says', () => {
    expect(signupOpen({ ...base, userCount: 0, enableSignup: { value: false, explicit: true } })).toBe(true);
  });

  it('is closed once users exist and nobody explicitly enabled it (e.g. after a config reset)', () => {
    expect(signupOpen({ ...base, userCount: 1, enableSignup: { value: true, explicit: false } })).toBe(false);
  });

  it('stays closed after the automatic close', () => {
    expect(signupOpen({ ...base, userCount: 3, enableSignup: { value: false, explicit: true } })).toBe(false);
  });

  it('is open when explicitly enabled by env or an admin', () => {
    expect(signupOpen({ ...base, userCount: 3, enableSignup: { value: true, explicit: true } })).toBe(true);
  });

  it('is closed when the login form is disabled', () => {
    expect(
      signupOpen({ userCount: 3, enableLoginForm: false, enableSignup: { value: true, explicit: true } }),
    ).toBe(false);
  });
});

describe('roleForNewAccount', () => {
  it('makes the first account admin and later ones DEFAULT_USER_ROLE', () => {
    expect(roleForNewAccount(0, 'pending')).toBe('admin');
    expect(roleForNewAccount(1, 'pending')).toBe('pending');
    expect(roleForNewAccount(5, 'user')).toBe('user');
  });
});
