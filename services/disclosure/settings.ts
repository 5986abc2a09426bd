import { ConfigError } from '../../shared/errors.js';

/** Which periods `publishAll` publishes: every period with aggregates, or only those that have ended. */
export type PublishedPeriods = 'all' | 'closed';

/** The disclosure service's own settings, read once at start-up: a bad value stops it with one clear line. */
export interface DisclosureSettings {
  /** HUB_DISCLOSURE_MIN_GROUP: counts from 1 to this − 1 are published as null. */
  readonly minGroup: number;
  /** HUB_DISCLOSURE_INTERVAL_SECONDS: how often publishAll runs. */
  readonly intervalSeconds: number;
  /** HUB_DISCLOSURE_PORT: the public HTTP feed. */
  readonly port: number;
  /** HUB_DISCLOSURE_PERIODS: "all" (default) or "closed". */
  readonly periods: PublishedPeriods;
}

export const DEFAULT_MIN_GROUP = 10;

export function disclosureSettingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): DisclosureSettings {
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const text = env[name]?.trim();
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new ConfigError(`${name}: '${text}' is not an integer from ${min} to ${max}`);
    return value;
  };
  const periods = env.HUB_DISCLOSURE_PERIODS?.trim() || 'all';
  if (periods !== 'all' && periods !== 'closed')
    throw new ConfigError(`HUB_DISCLOSURE_PERIODS: '${periods}' is neither "all" nor "closed"`);
  return {
    minGroup: integer('HUB_DISCLOSURE_MIN_GROUP', DEFAULT_MIN_GROUP, 1, 1_000_000),
    intervalSeconds: integer('HUB_DISCLOSURE_INTERVAL_SECONDS', 30, 1, 86_400),
    port: integer('HUB_DISCLOSURE_PORT', 8088, 0, 65_535),
    periods,
  };
}
