import { type Command, Option } from 'commander';
import { type HubConfig, loadEndpoints } from '../../shared/config.js';
import { loadPseudonymKey } from '../../shared/identity.js';
import { createLogger } from '../../shared/logger.js';
import { ProgressBar } from '../../shared/progress.js';
import { REBUILD_SOURCES, type RebuildSource, rebuildState } from '../../shared/runner/rebuild.js';
import { topicsFor } from '../../shared/topics.js';
import { statefulServicesFor } from '../catalogue.js';
import { EXIT, exitWith } from './options.js';

export function registerRebuild(program: Command, config: HubConfig): void {
  const stateful = statefulServicesFor(topicsFor(config)).map((s) => s.name);
  program
    .command('rebuild')
    .description(
      "rebuild a namespace's Redis state from Kafka: delete a service's keys, then restore them from its " +
        'changelog topic, which holds the state at the offsets its group has committed (stop the service first)',
    )
    .addOption(
      new Option(
        '--service <name>',
        'one service to rebuild (default: every service that keeps state)',
      ).choices(stateful),
    )
    .addOption(
      new Option(
        '--from <source>',
        'changelog: the fields on <namespace>.<service>.changelog.v1, nothing decided again (fast); ' +
          'input: replay the input topic and decide every record again, publishing nothing (slow; for a ' +
          'namespace whose changelog is incomplete, e.g. written by a hub without one)',
      )
        .choices(REBUILD_SOURCES)
        .default('changelog'),
    )
    .addHelpText(
      'after',
      `\nStart the services again afterwards: their state and their committed offsets agree, and they carry on\nexactly where they were. A service finding its state missing refuses to decide and names this command.\n`,
    )
    .action(exitWith((options: { service?: string; from?: RebuildSource }) => runRebuild(config, options)));
}

export async function runRebuild(
  config: HubConfig,
  options: { service?: string; from?: RebuildSource },
): Promise<number> {
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
      from: options.from ?? 'changelog',
      onStart: (total) => {
        bar = new ProgressBar({
          total,
          stream: process.stderr,
          unit: `${service.name} ${options.from ?? 'changelog'} records`,
        });
      },
      onProgress: (done) => bar?.update(done),
    });
    bar?.finish();
    process.stdout.write(
      `${service.name}: rebuilt ${report.partitions} partition(s) of namespace ${config.namespace} up to the offsets its group has committed ` +
        `(${report.inputOffsets} in all) from ${report.records} ${report.from} records in ${report.seconds.toFixed(1)} s ` +
        `(${Math.round(report.records / Math.max(report.seconds, 0.001))} records/s); ${report.keysDeleted} old keys deleted\n`,
    );
  }
  return EXIT.done;
}
