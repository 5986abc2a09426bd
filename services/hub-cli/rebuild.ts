import { type Command, Option } from 'commander';
import { type HubConfig, loadEndpoints } from '../../shared/config.js';
import { loadPseudonymKey } from '../../shared/identity.js';
import { createLogger } from '../../shared/logger.js';
import { ProgressBar } from '../../shared/progress.js';
import { rebuildState } from '../../shared/runner/rebuild.js';
import { topicsFor } from '../../shared/topics.js';
import { statefulServicesFor } from '../catalogue.js';
import { EXIT, exitWith } from './options.js';

export function registerRebuild(program: Command, config: HubConfig): void {
  const stateful = statefulServicesFor(topicsFor(config)).map((s) => s.name);
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
      ).choices(stateful),
    )
    .addHelpText(
      'after',
      `\nStart the services again afterwards: their state and their committed offsets agree, and they carry on\nexactly where they were. A service finding its state missing refuses to decide and names this command.\n`,
    )
    .action(exitWith((options: { service?: string }) => runRebuild(config, options)));
}

export async function runRebuild(config: HubConfig, options: { service?: string }): Promise<number> {
  const services = statefulServicesFor(topicsFor(config)).filter(
    (s) => options.service === undefined || s.name === options.service,
  );
  const endpoints = loadEndpoints();
  const pseudonymKey = loadPseudonymKey(process.env);
  for (const service of services) {
    let bar: ProgressBar | undefined;
    const report = await rebuildState(service, {
      config,
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
      `${service.name}: rebuilt ${report.partitions} partition(s) of namespace ${config.namespace} from ${report.records} records ` +
        `in ${report.seconds.toFixed(1)} s (${Math.round(rate)}/s); ${report.keysDeleted} old keys deleted\n`,
    );
  }
  return EXIT.done;
}
