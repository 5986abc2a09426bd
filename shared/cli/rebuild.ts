import { STATEFUL_SERVICES, serviceNamed } from '../../services/catalogue.js';
import { loadEndpoints } from '../config.js';
import { loadPseudonymKey } from '../identity.js';
import { createLogger } from '../logger.js';
import { NAMESPACE } from '../namespace.js';
import { ProgressBar } from '../progress.js';
import { rebuildState } from '../runner/rebuild.js';

const USAGE = `usage: hub rebuild [--service NAME]

Rebuilds a namespace's Redis state from Kafka: deletes the service's keys, then replays its input topic
up to the offsets its consumer group has committed, publishing nothing. Stop the service first; start it
again afterwards and it carries on exactly where it was. Without --service every stateful service is
rebuilt (${STATEFUL_SERVICES.map((s) => s.name).join(', ')}).
`;

export async function runRebuild(args: string[]): Promise<number> {
  let only: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--help' || args[i] === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (args[i] === '--service') only = args[++i];
    else {
      process.stderr.write(`hub rebuild: unknown argument '${args[i]}'\n\n${USAGE}`);
      return 2;
    }
  }
  const services =
    only === undefined ? STATEFUL_SERVICES : [serviceNamed(only)].filter((s) => s !== undefined);
  if (services.length === 0 || services.some((s) => s.state === undefined)) {
    process.stderr.write(
      `hub rebuild: --service must be one of ${STATEFUL_SERVICES.map((s) => s.name).join(', ')} (the services that keep state)\n`,
    );
    return 2;
  }
  const endpoints = loadEndpoints();
  const pseudonymKey = loadPseudonymKey(process.env);
  for (const service of services) {
    let bar: ProgressBar | undefined;
    const report = await rebuildState(service, {
      endpoints,
      pseudonymKey,
      logger: createLogger('hub-rebuild', 'error'),
      onStart: (total) => {
        bar = new ProgressBar({ total, stream: process.stderr, unit: `${service.name} records` });
      },
      onProgress: (done) => bar?.update(done),
    });
    bar?.finish();
    const rate = report.records / Math.max(report.seconds, 0.001);
    process.stdout.write(
      `${service.name}: rebuilt ${report.partitions} partition(s) of namespace ${NAMESPACE} from ${report.records} records ` +
        `in ${report.seconds.toFixed(1)} s (${Math.round(rate)}/s); ${report.keysDeleted} old keys deleted\n`,
    );
  }
  return 0;
}
