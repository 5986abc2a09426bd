import { HubError } from '../errors.js';
import { runDeadLetters } from './dead-letters.js';
import { runDisclosure } from './disclosure.js';
import { runPolicy } from './policy.js';
import { runRebuild } from './rebuild.js';
import { runReconcile } from './reconcile.js';
import { runSimulate } from './simulate.js';
import { runStatus } from './status.js';
import { runTopics } from './topics.js';

/** One command-line tool for operations staff (design.md §3 "Operations"). */
const commands: Record<string, { summary: string; run: (args: string[]) => Promise<number> }> = {
  policy: { summary: 'check a policy decision by hand (JSON on stdin, JSON on stdout)', run: runPolicy },
  topics: { summary: 'create the topics and register their schemas (create | list)', run: runTopics },
  simulate: {
    summary: 'publish a realistic synthetic year for a region, with injected faults',
    run: runSimulate,
  },
  disclosure: { summary: 'publish, show and verify public disclosures', run: runDisclosure },
  reconcile: { summary: 'summarise the reconciliation items (summary)', run: runReconcile },
  status: { summary: "each service's consumer lag", run: runStatus },
  rebuild: {
    summary: "rebuild a namespace's Redis state from the topics (stop the services first)",
    run: runRebuild,
  },
  'dead-letters': {
    summary: 'list dead letters or publish them again (list | redrive)',
    run: runDeadLetters,
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: hub <command> [args]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`hub: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

// `hub ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Configuration and I/O failures are told in one line; anything else is a bug and keeps its stack.
  if (!(error instanceof HubError)) throw error;
  process.stderr.write(`hub: ${error.message}\n`);
  process.exitCode = 1;
}
