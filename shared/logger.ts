import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Paths of personal data that must never be written, wherever they appear in a logged object.
 * Logging a raw payload is forbidden anyway; this is the safety net.
 */
export const REDACTED_PATHS = [
  'nationalId',
  'certno',
  '*.nationalId',
  '*.certno',
  '*.*.nationalId',
  '*.*.certno',
  'member.nationalId',
  'payload',
  '*.payload',
  'value',
  '*.value',
  // Secrets: a client's configuration must never be logged, but if it is, not its credentials.
  'password',
  '*.password',
  '*.*.password',
  'sasl',
  '*.sasl',
  'security',
  '*.security',
];

/** The one root logger of a process; services take `child({ service, partition })` from it. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
