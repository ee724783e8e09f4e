import { z } from 'zod';

/**
 * The account fields that sign-up, admin-created accounts, profile and user
 * updates share, so every route checks them alike and /openapi.json states
 * the same rules (as patterns and lengths, which clients and fuzzers read).
 */

/**
 * Open WebUI's email check; addresses at @localhost are accepted too. The
 * characters are spelled out instead of `\s` because JavaScript's and
 * Python's `\s` differ (U+FEFF), and the pattern is read by both.
 */
export const EMAIL_PATTERN = /^[^@\s\uFEFF]+@([^@\s\uFEFF]+\.[^@\s\uFEFF]+|localhost)$/;

export const email = z
  .string()
  .trim()
  .max(320)
  .regex(EMAIL_PATTERN, 'Invalid email format')
  .transform((v) => v.toLowerCase());

export const newPassword = z.string().min(8, 'Password must be at least 8 characters').max(256);

/**
 * Not blank: the pattern asks for one character that is whitespace neither to
 * JavaScript's trim nor to Python (which reads the pattern to generate names).
 */
export const displayName = z
  .string()
  .trim()
  .min(1, 'Name is required')
  .max(255)
  .regex(/[^\s\uFEFF]/, 'Name is required');

export const profileImageUrl = z.string().max(100_000);
