import { loadEndpoints } from '../config.js';
import { createKafka } from '../kafka.js';
import { createLogger } from '../logger.js';
import { readTopic } from '../read-topic.js';
import type { DeadLetter } from '../records.js';
import { createRegistry, TopicCodec } from '../registry.js';
import { TOPICS, type TopicSpec } from '../topics.js';

const DEAD_LETTER_TOPICS: Readonly<Record<string, TopicSpec>> = {
  'premium-ingest': TOPICS.premiumDeadLetters,
  'settlement-ingest': TOPICS.settlementDeadLetters,
  'payout-ingest': TOPICS.payoutDeadLetters,
  reconciler: TOPICS.reconcilerDeadLetters,
  disclosure: TOPICS.disclosureDeadLetters,
};

const USAGE = `usage: hub dead-letters <list | redrive> --service NAME [--code CODE] [--offset N]

  list      print each dead letter: where it was read, the error code, field and rule
  redrive   publish the original bytes and key of the chosen dead letters to the topic they came
            from, so the service decides them again (after a fix, or once what they were waiting
            for has arrived); a redriven message that is still bad is dead-lettered again
  --service ${Object.keys(DEAD_LETTER_TOPICS).join(', ')}
  --code    only dead letters with this error code
  --offset  only the dead letter of this original offset
`;

export async function runDeadLetters(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const options = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (!flag?.startsWith('--') || value === undefined) {
      process.stderr.write(`hub dead-letters: bad option ${flag ?? ''}\n${USAGE}`);
      return 2;
    }
    options.set(flag.slice(2), value);
  }
  const service = options.get('service');
  const topic = service ? DEAD_LETTER_TOPICS[service] : undefined;
  if ((sub !== 'list' && sub !== 'redrive') || !topic) {
    process.stderr.write(
      `hub dead-letters: ${topic ? '' : `--service must be one of the services; `}\n${USAGE}`,
    );
    return 2;
  }
  const endpoints = loadEndpoints();
  const kafka = createKafka(endpoints, 'hub-cli', createLogger('hub-cli', 'error'));
  const codec = new TopicCodec(createRegistry(endpoints), endpoints.schemaRegistryUrl);
  await codec.prepare([topic]);
  const chosen = (await readTopic<'dead-letter'>(kafka, codec, topic)).filter(
    (l) =>
      (!options.has('code') || l.errorCode === options.get('code')) &&
      (!options.has('offset') || String(l.offset) === options.get('offset')),
  );
  if (sub === 'list') {
    for (const l of chosen) process.stdout.write(`${describe(l)}\n`);
    process.stdout.write(`${chosen.length} dead letter(s) on ${topic.name}\n`);
    return 0;
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
  return 0;
}

/** One line per dead letter; the value is already safe to show (the services never put a national ID there). */
function describe(l: DeadLetter): string {
  const value = l.value === null ? '' : ` (value: ${l.value})`;
  return `${l.topic}/${l.partition}/${l.offset}  ${l.errorCode} at ${l.field}: ${l.rule}${value}  [${l.failedAt.toISOString()}]`;
}
