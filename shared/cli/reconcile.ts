import { formatSummary, summarise } from '../../services/reconciler/summary.js';
import { loadEndpoints } from '../config.js';
import { createKafka } from '../kafka.js';
import { createLogger } from '../logger.js';
import { readTopic } from '../read-topic.js';
import { createRegistry, TopicCodec } from '../registry.js';
import { TOPICS } from '../topics.js';

const USAGE = `usage: hub reconcile summary [--region CODE] [--top N]

  summary   read the reconciliation topic and print every item's latest state, counted by kind,
            status and region, with the largest discrepancies first
`;

export async function runReconcile(args: string[]): Promise<number> {
  const [sub, ...flags] = args;
  if (sub !== 'summary') {
    process.stderr.write(USAGE);
    return 2;
  }
  let region: string | undefined;
  let top = 10;
  for (let i = 0; i < flags.length; i += 2) {
    const [flag, value] = [flags[i], flags[i + 1]];
    if (flag === '--region' && value && /^\d{6}$/.test(value)) region = value;
    else if (flag === '--top' && value && /^\d+$/.test(value)) top = Number(value);
    else {
      process.stderr.write(`hub reconcile summary: bad option ${flag ?? ''} ${value ?? ''}\n${USAGE}`);
      return 2;
    }
  }
  const endpoints = loadEndpoints();
  const kafka = createKafka(endpoints, 'hub-cli', createLogger('hub-cli', 'error'));
  const codec = new TopicCodec(createRegistry(endpoints), endpoints.schemaRegistryUrl);
  await codec.prepare([TOPICS.reconciliation]);
  const results = await readTopic<'reconciliation-result'>(kafka, codec, TOPICS.reconciliation);
  const chosen = region ? results.filter((r) => r.regionCode === region) : results;
  process.stdout.write(`${formatSummary(summarise(chosen), { top })}\n`);
  return 0;
}
