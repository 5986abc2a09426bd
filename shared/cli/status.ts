import type { Command } from 'commander';
import { SERVICES } from '../../services/catalogue.js';
import { loadEndpoints } from '../config.js';
import { createKafka } from '../kafka.js';
import { createLogger } from '../logger.js';
import { NAMESPACE } from '../namespace.js';
import type { TopicSpec } from '../topics.js';
import { EXIT, exitWith } from './options.js';

/** Each service's consumer group name and the topic it reads, from the services' own definitions. */
export const SERVICE_INPUTS: ReadonlyArray<readonly [string, TopicSpec]> = SERVICES.map(
  (service) => [service.name, service.input] as const,
);

export interface GroupLag {
  readonly service: string;
  readonly topic: string;
  readonly end: number;
  readonly committed: number;
  readonly lag: number;
  /** False when the topic does not exist yet (`hub topics create` has not run in this namespace). */
  readonly topicExists: boolean;
}

/** Consumer lag of every service: end offsets minus committed offsets, summed over partitions. */
export async function serviceLag(kafka: ReturnType<typeof createKafka>): Promise<GroupLag[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const rows: GroupLag[] = [];
    const existing = new Set(await admin.listTopics());
    for (const [service, topic] of SERVICE_INPUTS) {
      if (!existing.has(topic.name)) {
        rows.push({ service, topic: topic.name, end: 0, committed: 0, lag: 0, topicExists: false });
        continue;
      }
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
      rows.push({ service, topic: topic.name, end, committed: at, lag: end - at, topicExists: true });
    }
    return rows;
  } finally {
    await admin.disconnect();
  }
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      "each service's consumer lag: the end of its input topic and how far its group has committed",
    )
    .action(exitWith(runStatus));
}

export async function runStatus(): Promise<number> {
  const endpoints = loadEndpoints();
  const kafka = createKafka(endpoints, 'hub-cli', createLogger('hub-cli', 'error'));
  const rows = await serviceLag(kafka);
  process.stdout.write(
    `namespace ${NAMESPACE}\n${'service'.padEnd(20)}${'input'.padEnd(44)}${'end'.padStart(10)}${'lag'.padStart(10)}\n`,
  );
  for (const r of rows) {
    const lag = r.topicExists ? String(r.lag) : 'no topic';
    process.stdout.write(
      `${r.service.padEnd(20)}${r.topic.padEnd(44)}${String(r.end).padStart(10)}${lag.padStart(10)}\n`,
    );
  }
  if (rows.some((r) => !r.topicExists)) {
    process.stdout.write(
      `some topics do not exist in namespace ${NAMESPACE}: run \`npx hub topics create --namespace ${NAMESPACE}\`\n`,
    );
  }
  return EXIT.done;
}
