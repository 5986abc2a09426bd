import { type HubConfig, hubConfigFromEnvironment } from '../../shared/config.js';
import { ConfigError } from '../../shared/errors.js';
import { namespaceArgument } from './namespace-argument.js';
import { runHub } from './program.js';

/**
 * The `hub` command's entry point: builds the hub's configuration once, from `--namespace` or the
 * environment, and runs the command with it.
 */

// `hub ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const argv = process.argv.slice(2);
const namespace = namespaceArgument(argv);
if (namespace.kind === 'missing') {
  process.stderr.write('hub: --namespace needs a name (see hub --help)\n');
  process.exit(2);
}

let config: HubConfig;
try {
  config = hubConfigFromEnvironment(process.env, namespace.kind === 'given' ? namespace.value : undefined);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A bad --namespace is usage (2); a bad variable is configuration (1).
  const fromFlag = namespace.kind === 'given' && error.message.startsWith('HUB_NAMESPACE:');
  process.stderr.write(
    `hub: ${fromFlag ? error.message.replace(/^HUB_NAMESPACE:/, '--namespace') : error.message}\n`,
  );
  process.exit(fromFlag ? 2 : 1);
}
process.exitCode = await runHub(argv, config);
