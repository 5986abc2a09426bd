import type { Command } from 'commander';
import type { Admin } from 'kafkajs';
import { type HubConfig, loadEndpoints } from '../../shared/config.js';
import { createKafka } from '../../shared/kafka.js';
import { createLogger } from '../../shared/logger.js';
import { registerTopicSchema } from '../../shared/registry.js';
import { allTopics, subjectFor, type TopicSpec, topicsFor } from '../../shared/topics.js';
import { applyAcls, hubAcls } from './acl.js';
import { EXIT, exitWith } from './options.js';

export function registerTopics(program: Command, config: HubConfig): void {
  const topics = program
    .command('topics')
    .description('create the topics and register their schemas; describe them');
  topics
    .command('create')
    .description(
      "create every hub topic that does not exist yet (idempotent) and register each value schema under <topic>-value with its compatibility: FULL for the agencies' input topics, BACKWARD for the hub's own; on a secured stack also apply the namespace's ACLs (as `hub acl apply`)",
    )
    .action(exitWith(() => createAll(config)));
  topics
    .command('list')
    .description('print every topic with its records, key, partitions and config (no connection needed)')
    .action(
      exitWith(() => {
        for (const topic of allTopics(topicsFor(config))) process.stdout.write(`${describeTopic(topic)}\n`);
        return EXIT.done;
      }),
    );
}

async function createAll(config: HubConfig): Promise<number> {
  const topics = allTopics(topicsFor(config));
  const endpoints = loadEndpoints();
  const kafka = createKafka(endpoints, 'hub-cli', createLogger('hub-cli', 'error'));
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await createTopics(admin, topics, endpoints.kafkaBrokers.length);
    for (const topic of topics) {
      const id = await registerTopicSchema(endpoints.schemaRegistryUrl, topic);
      const state = created.includes(topic.name) ? 'created' : 'exists ';
      process.stdout.write(
        `${state} ${topic.name} (${topic.partitions} partitions)  ${subjectFor(topic)} id ${id}\n`,
      );
    }
    if (endpoints.security?.kafka) {
      const acls = hubAcls(config);
      await applyAcls(admin, acls);
      process.stdout.write(`applied ${acls.length} ACLs for namespace ${config.namespace}\n`);
    }
  } finally {
    await admin.disconnect();
  }
  return EXIT.done;
}

/** Creates the topics that do not exist yet; returns their names. Replication follows the cluster size. */
export async function createTopics(
  admin: Admin,
  topics: readonly TopicSpec[],
  brokers: number,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.name));
  if (missing.length === 0) return [];
  const replicationFactor = Math.min(3, brokers);
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((t) => ({
      topic: t.name,
      numPartitions: t.partitions,
      replicationFactor,
      configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
    })),
  });
  return missing.map((t) => t.name);
}

function describeTopic(t: TopicSpec): string {
  const config = Object.entries(t.config)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `${t.name}\n  ${t.doc}\n  value: ${t.records.join(' | ')}; key: ${t.key}\n  partitions: ${t.partitions}; ${config}`;
}
