import { HubError } from '../../shared/errors.js';
import { runnerOptionsFromEnvironment } from '../../shared/runner/runner.js';
import { loadSigningKey } from './chain.js';
import { type DisclosureConfig, type DisclosureParts, serveDisclosure, startDisclosureParts } from './run.js';
import { disclosureSettingsFromEnvironment } from './settings.js';

/**
 * The disclosure service's process: reads and checks its configuration before anything connects,
 * starts (run.ts), and stops cleanly on SIGTERM or SIGINT.
 */

/** Bad configuration stops the process with one line. */
function configure(env: NodeJS.ProcessEnv): DisclosureConfig {
  try {
    return {
      settings: disclosureSettingsFromEnvironment(env),
      signingKey: loadSigningKey(env),
      runnerOptions: runnerOptionsFromEnvironment('disclosure', env),
      ...(env.HUB_DISCLOSURE_BASE_URL ? { baseUrl: env.HUB_DISCLOSURE_BASE_URL } : {}),
    };
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    process.stderr.write(`disclosure: ${error.message}\n`);
    process.exit(1);
  }
}

const config = configure(process.env);
const log = config.runnerOptions.logger.child({ service: 'disclosure' });
if (config.signingKey.testOnly)
  log.warn({ keyId: config.signingKey.keyId }, 'signing with the public TEST ONLY key');

let parts: DisclosureParts;
try {
  parts = await startDisclosureParts(config);
} catch (error) {
  // Configuration, or Kafka, the registry or Redis not there (e.g. topics not created): one line, exit 1.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`disclosure: ${error instanceof HubError ? '' : 'cannot start: '}${message}\n`);
  process.exit(1);
}

const running = await serveDisclosure(config, parts, log);
// `kill -USR1 <pid>`: publish now, e.g. once a batch of late events has been processed.
process.on('SIGUSR1', () => void running.round());

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: finishing the batch in hand, closing the feed');
  void running.stop().then((clean) => process.exit(clean ? 0 : 1));
};
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
