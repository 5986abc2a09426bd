import { type Command, Option } from 'commander';
import { type HubConfig, loadEndpoints } from '../../shared/config.js';
import { createKafka } from '../../shared/kafka.js';
import { createLogger } from '../../shared/logger.js';
import { readTopic } from '../../shared/read-topic.js';
import type { DeadLetter } from '../../shared/records.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { type TopicSpec, topicsFor } from '../../shared/topics.js';
import { servicesFor } from '../catalogue.js';
import { EXIT, exitWith, wholeNumber } from './options.js';

interface DeadLetterOptions {
  readonly service: string;
  readonly code?: string;
  readonly offset?: number;
}

export function registerDeadLetters(program: Command, config: HubConfig): void {
  // Every service's dead-letter topic, from the services' own definitions.
  const deadLetterTopics: Readonly<Record<string, TopicSpec>> = Object.fromEntries(
    servicesFor(topicsFor(config)).map((service) => [service.name, service.deadLetters]),
  );
  const deadLetters = program
    .command('dead-letters')
    .description('list what a service refused and why, or publish the originals again once fixed');
  const options = (command: Command) =>
    command
      .addOption(
        new Option('--service <name>', 'whose dead letters')
          .choices(Object.keys(deadLetterTopics))
          .makeOptionMandatory(),
      )
      .option('--code <code>', 'only dead letters with this error code, e.g. NOT_AVRO or HOLIDAYS_UNKNOWN')
      .option('--offset <n>', 'only the dead letter of this original offset', wholeNumber(0));
  options(
    deadLetters
      .command('list')
      .description('print each dead letter: where it was read, the error code, field and rule'),
  ).action(exitWith((o: DeadLetterOptions) => run('list', o, deadLetterTopics, config)));
  options(
    deadLetters
      .command('redrive')
      .description(
        'publish the original bytes and key of the chosen dead letters to the topic they came from, so the service decides them again (after a fix, or once what they waited for has arrived); one still bad is dead-lettered again',
      ),
  ).action(exitWith((o: DeadLetterOptions) => run('redrive', o, deadLetterTopics, config)));
}

async function run(
  sub: 'list' | 'redrive',
  options: DeadLetterOptions,
  deadLetterTopics: Readonly<Record<string, TopicSpec>>,
  config: HubConfig,
): Promise<number> {
  const topic = deadLetterTopics[options.service] as TopicSpec;
  const endpoints = loadEndpoints();
  const kafka = createKafka(endpoints, 'hub-cli', createLogger('hub-cli', 'error'));
  const codec = new TopicCodec(createRegistry(endpoints), endpoints.schemaRegistryUrl);
  await codec.prepare([topic]);
  const chosen = (
    await readTopic<'dead-letter'>(kafka, codec, topic, { namespace: config.namespace })
  ).filter(
    (l) =>
      (options.code === undefined || l.errorCode === options.code) &&
      (options.offset === undefined || l.offset === options.offset),
  );
  if (sub === 'list') {
    for (const l of chosen) process.stdout.write(`${describe(l)}\n`);
    process.stdout.write(`${chosen.length} dead letter(s) on ${topic.name}\n`);
    return EXIT.done;
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const l of chosen) {
      await producer.send({ topic: l.topic, messages: [{ key: l.originalKey, value: l.originalValue }] });
      process.stdout.write(`redriven ${describe(l)}\n`);
    }
  } finally {
    await producer.disconnect();
  }
  process.stdout.write(`${chosen.length} message(s) published again to their topics\n`);
  return EXIT.done;
}

/** One line per dead letter; the value is already safe to show (the services never put a national ID there). */
function describe(l: DeadLetter): string {
  const value = l.value === null ? '' : ` (value: ${l.value})`;
  return `${l.topic}/${l.partition}/${l.offset}  ${l.errorCode} at ${l.field}: ${l.rule}${value}  [${l.failedAt.toISOString()}]`;
}
