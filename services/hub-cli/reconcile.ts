import type { Command } from 'commander';
import { type HubConfig, loadEndpoints } from '../../shared/config.js';
import { createKafka } from '../../shared/kafka.js';
import { createLogger } from '../../shared/logger.js';
import { readTopic } from '../../shared/read-topic.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { topicsFor } from '../../shared/topics.js';
import { formatSummary, summarise } from '../reconciler/summary.js';
import { EXIT, exitWith, regionOption, wholeNumber } from './options.js';

interface SummaryOptions {
  readonly region?: string;
  readonly top: number;
}

export function registerReconcile(program: Command, config: HubConfig): void {
  const reconcile = program.command('reconcile').description('summarise the reconciliation items');
  reconcile
    .command('summary')
    .description(
      "read the reconciliation topic and print every item's latest state, counted by kind, status and region, with the largest discrepancies first",
    )
    .addOption(regionOption('only this region'))
    .option('--top <n>', 'how many of the largest discrepancies to list', wholeNumber(0, 1000), 10)
    .action(exitWith((options: SummaryOptions) => summary(config, options)));
}

async function summary(config: HubConfig, options: SummaryOptions): Promise<number> {
  const { reconciliation } = topicsFor(config);
  const endpoints = loadEndpoints();
  const kafka = createKafka(endpoints, 'hub-cli', createLogger('hub-cli', 'error'));
  const codec = new TopicCodec(createRegistry(endpoints), endpoints.schemaRegistryUrl);
  await codec.prepare([reconciliation]);
  const results = await readTopic<'reconciliation-result'>(kafka, codec, reconciliation, {
    namespace: config.namespace,
  });
  const chosen = options.region ? results.filter((r) => r.regionCode === options.region) : results;
  process.stdout.write(`${formatSummary(summarise(chosen), { top: options.top })}\n`);
  return EXIT.done;
}
