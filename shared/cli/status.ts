import { loadEndpoints } from '../config.js';
import { createKafka } from '../kafka.js';
import { createLogger } from '../logger.js';
import { NAMESPACE } from '../namespace.js';
import { TOPICS, type TopicSpec } from '../topics.js';

/** Each service's consumer group, what it reads, and how far behind it is. */
export const SERVICE_INPUTS: ReadonlyArray<readonly [string, TopicSpec]> = [
  ['premium-ingest', TOPICS.taxPremium],
  ['settlement-ingest', TOPICS.hospitalSettlement],
  ['payout-ingest', TOPICS.insurerPayout],
  ['reconciler', TOPICS.ledger],
  ['disclosure', TOPICS.ledger],
];

export interface GroupLag {
  readonly service: string;
  readonly topic: string;
  readonly end: number;
  readonly committed: number;
  readonly lag: number;
}

/** Consumer lag of every service: end offsets minus committed offsets, summed over partitions. */
export async function serviceLag(kafka: ReturnType<typeof createKafka>): Promise<GroupLag[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const rows: GroupLag[] = [];
    for (const [service, topic] of SERVICE_INPUTS) {
      const ends = await admin.fetchTopicOffsets(topic.name);
      const committed = await admin.fetchOffsets({
        groupId: `${NAMESPACE}.${service}`,
        topics: [topic.name],
      });
      const done = new Map(
        committed[0]?.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]) ?? [],
      );
      let end = 0;
      let at = 0;
      for (const p of ends) {
        end += Number(p.high);
        // A committed offset can sit past the last record: transaction markers take offsets too.
        at += Math.min(Number(p.high), done.get(p.partition) ?? 0);
      }
      rows.push({ service, topic: topic.name, end, committed: at, lag: end - at });
    }
    return rows;
  } finally {
    await admin.disconnect();
  }
}

export async function runStatus(_args: string[]): Promise<number> {
  const endpoints = loadEndpoints();
  const kafka = createKafka(endpoints, 'hub-cli', createLogger('hub-cli', 'error'));
  const rows = await serviceLag(kafka);
  process.stdout.write(
    `namespace ${NAMESPACE}\n${'service'.padEnd(20)}${'input'.padEnd(44)}${'end'.padStart(10)}${'lag'.padStart(10)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.service.padEnd(20)}${r.topic.padEnd(44)}${String(r.end).padStart(10)}${String(r.lag).padStart(10)}\n`,
    );
  }
  return 0;
}
