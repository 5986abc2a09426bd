import { ConfigError } from './errors.js';

/**
 * The prefix of every topic, consumer group, transactional id and Redis key the hub uses
 * (`HUB_NAMESPACE`, default "medfund"). Two hubs, or two test runs, can share one Kafka cluster and
 * one Redis without seeing each other's data. Read once, at start-up.
 */
export const NAMESPACE = namespaceFrom(process.env.HUB_NAMESPACE);

export function namespaceFrom(text: string | undefined): string {
  const value = text === undefined || text === '' ? 'medfund' : text;
  // Kafka topic names allow [a-zA-Z0-9._-]; keep to that so one prefix serves Kafka and Redis alike.
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,100}$/.test(value)) {
    throw new ConfigError(`HUB_NAMESPACE: '${value}' must be letters, digits, '.', '_' or '-' (at most 101)`);
  }
  return value;
}
