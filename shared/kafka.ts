import { Kafka, type LogEntry, logLevel } from 'kafkajs';
import type { Endpoints } from './config.js';
import type { Logger } from './logger.js';
import { kafkajsSecurity } from './security.js';

/** A kafkajs client whose own log lines go through our pino logger, as structured events. */
export function createKafka(endpoints: Endpoints, clientId: string, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: endpoints.kafkaBrokers,
    ...kafkajsSecurity(endpoints.security?.kafka),
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        if (level === logLevel.ERROR) log.error(rest, message);
        else if (level === logLevel.WARN) log.warn(rest, message);
        else log.info(rest, message);
      },
    retry: { initialRetryTime: 200, retries: 8 },
  });
}
