import { pino } from 'pino';
import type { LogLevel } from '../contract/env.ts';

export type Logger = pino.Logger;

/**
 * Paths that are censored wherever they appear in a log object. Request
 * logging already records only method, path and status; this is the second
 * line of defence for anything logged by hand.
 */
export const REDACT_PATHS = [
  'password',
  'token',
  'key',
  'secret',
  'authorization',
  'cookie',
  '*.password',
  '*.token',
  '*.key',
  '*.secret',
  '*.authorization',
  '*.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
];

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { name: 'webui' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
