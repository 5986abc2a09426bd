import type { Server } from 'node:http';
import type { Logger } from '../../shared/logger.js';
import { bindAddress } from '../../shared/runner/observability.js';
import { type RunnerOptions, type RunningService, startService } from '../../shared/runner/runner.js';
import { topicsFor } from '../../shared/topics.js';
import { disclosureAggregationService } from './adapter.js';
import type { SigningKey } from './chain.js';
import { DisclosurePublisher } from './publisher.js';
import { createDisclosureServer, listen } from './server.js';
import type { DisclosureSettings } from './settings.js';

/**
 * The disclosure process, given its configuration: the aggregation runner (ledger → Redis totals),
 * the publisher (totals → signed chain on the disclosure topic, every interval) and the public HTTP
 * feed. Nothing here reads the environment: main.ts does, once, and passes the result in.
 */

export interface DisclosureConfig {
  readonly settings: DisclosureSettings;
  /** The key the chain is signed with; tests pass their own. */
  readonly signingKey: SigningKey;
  readonly runnerOptions: RunnerOptions;
  /** For the Atom feed's links; default http://<Host header>. */
  readonly baseUrl?: string;
}

/** The parts that connect to Kafka, the registry and Redis. */
export interface DisclosureParts {
  readonly aggregation: RunningService;
  readonly publisher: DisclosurePublisher;
}

export interface RunningDisclosure {
  readonly port: number;
  /** One publishing round now, unless one is under way; the next follows after the interval. */
  round(): Promise<void>;
  /** Closes the feed and stops the runner and the publisher; false when any of them failed to stop. */
  stop(): Promise<boolean>;
}

/** Starts the aggregation, then the publisher; a publisher that cannot start leaves no runner behind. */
export async function startDisclosureParts(config: DisclosureConfig): Promise<DisclosureParts> {
  const { runnerOptions, settings, signingKey } = config;
  const aggregation = await startService(
    disclosureAggregationService(topicsFor(runnerOptions.config)),
    runnerOptions,
  );
  try {
    const publisher = await DisclosurePublisher.start({
      config: runnerOptions.config,
      endpoints: runnerOptions.endpoints,
      signingKey,
      threshold: settings.minGroup,
      periods: settings.periods,
      logger: runnerOptions.logger,
    });
    return { aggregation, publisher };
  } catch (error) {
    await aggregation.stop().catch(() => {});
    throw error;
  }
}

/** Serves the feed and publishes on the interval, on parts already started. */
export async function serveDisclosure(
  config: DisclosureConfig,
  parts: DisclosureParts,
  log: Logger,
): Promise<RunningDisclosure> {
  const { settings, signingKey } = config;
  const { aggregation, publisher } = parts;
  const server = createDisclosureServer({
    source: publisher,
    key: signingKey,
    threshold: settings.minGroup,
    alsoReady: () => aggregation.isReady(),
    logger: log,
    ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
  });
  const port = await listen(server, settings.port, bindAddress());
  log.info(
    { port, keyId: signingKey.keyId, interval: settings.intervalSeconds, periods: settings.periods },
    'disclosure feed listening',
  );
  const rounds = publishingRounds(publisher, settings.intervalSeconds * 1000, log);
  return {
    port,
    round: rounds.round,
    stop: async () => {
      rounds.stop();
      const results = await Promise.allSettled([closeServer(server), aggregation.stop(), publisher.stop()]);
      return results.every((r) => r.status === 'fulfilled');
    },
  };
}

/** One publishing round, then the next after the interval (never two at once). */
function publishingRounds(publisher: DisclosurePublisher, intervalMs: number, log: Logger) {
  let timer: NodeJS.Timeout | undefined;
  let inRound = false;
  let stopping = false;
  const round = async (): Promise<void> => {
    if (inRound) return;
    inRound = true;
    if (timer) clearTimeout(timer);
    try {
      const published = await publisher.publishAll();
      if (published.length > 0) log.info({ published: published.length }, 'publishing round');
    } catch (error) {
      // Redis or Kafka away, or another publisher took the chain: the next round re-reads and retries.
      log.warn({ err: (error as Error).message }, 'publishing round failed');
    }
    inRound = false;
    if (!stopping) timer = setTimeout(round, intervalMs);
  };
  timer = setTimeout(round, intervalMs);
  return {
    round,
    stop: () => {
      stopping = true;
      if (timer) clearTimeout(timer);
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
