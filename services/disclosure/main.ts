import { HubError } from '../../shared/errors.js';
import { bindAddress } from '../../shared/runner/observability.js';
import {
  type RunningService,
  runnerOptionsFromEnvironment,
  startService,
} from '../../shared/runner/runner.js';
import { disclosureAggregation } from './aggregate.js';
import { loadSigningKey } from './chain.js';
import { DisclosurePublisher } from './publisher.js';
import { createDisclosureServer, listen } from './server.js';
import { disclosureSettingsFromEnvironment } from './settings.js';

/**
 * The disclosure service: the aggregation runner (ledger → Redis aggregates), the publisher
 * (aggregates → signed chain on the disclosure topic, every HUB_DISCLOSURE_INTERVAL_SECONDS) and the
 * public HTTP feed. Configuration is read and checked before anything connects.
 */
/** Bad configuration stops the process with one line. */
function configure() {
  try {
    return {
      settings: disclosureSettingsFromEnvironment(),
      signingKey: loadSigningKey(),
      runnerOptions: runnerOptionsFromEnvironment('disclosure'),
    };
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    process.stderr.write(`disclosure: ${error.message}\n`);
    process.exit(1);
  }
}
const { settings, signingKey, runnerOptions } = configure();
const log = runnerOptions.logger.child({ service: 'disclosure' });
if (signingKey.testOnly) log.warn({ keyId: signingKey.keyId }, 'signing with the public TEST ONLY key');

let aggregation: RunningService | undefined;
let publisher: DisclosurePublisher | undefined;
let timer: NodeJS.Timeout | undefined;
let stopping = false;

try {
  aggregation = await startService(disclosureAggregation, runnerOptions);
  publisher = await DisclosurePublisher.start({
    endpoints: runnerOptions.endpoints,
    signingKey,
    threshold: settings.minGroup,
    periods: settings.periods,
    logger: runnerOptions.logger,
  });
} catch (error) {
  // Configuration, or Kafka, the registry or Redis not there (e.g. topics not created): one line, exit 1.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`disclosure: ${error instanceof HubError ? '' : 'cannot start: '}${message}\n`);
  await aggregation?.stop().catch(() => {});
  process.exit(1);
}

const running = aggregation;
const chain = publisher;
const server = createDisclosureServer({
  source: chain,
  key: signingKey,
  threshold: settings.minGroup,
  alsoReady: () => running.isReady(),
  logger: log,
  ...(process.env.HUB_DISCLOSURE_BASE_URL ? { baseUrl: process.env.HUB_DISCLOSURE_BASE_URL } : {}),
});
const port = await listen(server, settings.port, bindAddress());
log.info(
  { port, keyId: signingKey.keyId, interval: settings.intervalSeconds, periods: settings.periods },
  'disclosure feed listening',
);

/** One publishing round, then the next after the interval (never two at once). */
let inRound = false;
const round = async () => {
  if (inRound) return;
  inRound = true;
  if (timer) clearTimeout(timer);
  try {
    const published = await chain.publishAll();
    if (published.length > 0) log.info({ published: published.length }, 'publishing round');
  } catch (error) {
    // Redis or Kafka away, or another publisher took the chain: the next round re-reads and retries.
    log.warn({ err: (error as Error).message }, 'publishing round failed');
  }
  inRound = false;
  if (!stopping) timer = setTimeout(round, settings.intervalSeconds * 1000);
};
timer = setTimeout(round, settings.intervalSeconds * 1000);
// `kill -USR1 <pid>`: publish now, e.g. once a batch of late events has been processed.
process.on('SIGUSR1', () => void round());

const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: finishing the batch in hand, closing the feed');
  if (timer) clearTimeout(timer);
  Promise.allSettled([
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
    running.stop(),
    chain.stop(),
  ]).then((results) => process.exit(results.some((r) => r.status === 'rejected') ? 1 : 0));
};
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
