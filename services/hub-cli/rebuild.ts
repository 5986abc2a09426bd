import { type Command, Option } from 'commander';
import { loadEndpoints } from '../../shared/config.js';
import { loadPseudonymKey } from '../../shared/identity.js';
import { createLogger } from '../../shared/logger.js';
import { NAMESPACE } from '../../shared/namespace.js';
import { ProgressBar } from '../../shared/progress.js';
import { rebuildState } from '../../shared/runner/rebuild.js';
import { STATEFUL_SERVICES, serviceNamed } from '../catalogue.js';
import { EXIT, exitWith } from './options.js';

const STATEFUL = STATEFUL_SERVICES.map((s) => s.name);

export function registerRebuild(program: Command): void {
  program
    .command('rebuild')
    .description(
      "rebuild a namespace's Redis state from Kafka: delete a service's keys, replay its input topic up to " +
        'the offsets its group has committed, publishing nothing (stop the service first)',
    )
    .addOption(
      new Option(
        '--service <name>',
        'one service to rebuild (default: every service that keeps state)',
      ).choices(STATEFUL),
    )
    .addHelpText(
      'after',
      `\nStart the services again afterwards: their state and their committed offsets agree, and they carry on\nexactly where they were. A service finding its state missing refuses to decide and names this command.\n`,
    )
    .action(exitWith(runRebuild));
}

export async function runRebuild(options: { service?: string }): Promise<number> {
  const services =
    options.service === undefined
      ? STATEFUL_SERVICES
      : [serviceNamed(options.service)].filter((s) => s !== undefined);
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
  return EXIT.done;
}
