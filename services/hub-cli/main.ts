import { namespaceArgument } from './namespace-argument.js';

/**
 * The `hub` command's entry point. `--namespace` must reach HUB_NAMESPACE before any module that builds a
 * topic name is loaded (shared/namespace.ts reads it once), so the commands are imported only after it.
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
if (namespace.kind === 'given') process.env.HUB_NAMESPACE = namespace.value;

let program: typeof import('./program.js');
try {
  program = await import('./program.js');
} catch (error) {
  // Only a bad namespace fails while loading; from --namespace it is usage (2), from the environment configuration (1).
  const message = error instanceof Error ? error.message : String(error);
  if (!message.startsWith('HUB_NAMESPACE:')) throw error;
  const fromFlag = namespace.kind === 'given';
  process.stderr.write(`hub: ${fromFlag ? message.replace(/^HUB_NAMESPACE:/, '--namespace') : message}\n`);
  process.exit(fromFlag ? 2 : 1);
}
process.exitCode = await program.runHub(argv);
