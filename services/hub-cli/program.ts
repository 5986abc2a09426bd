import { Command, CommanderError } from 'commander';
import type { HubConfig } from '../../shared/config.js';
import { HubError } from '../../shared/errors.js';
import { registerAcl } from './acl.js';
import { registerDeadLetters } from './dead-letters.js';
import { registerDisclosure } from './disclosure.js';
import { EXIT, takeExitCode, UsageError } from './options.js';
import { registerPolicy } from './policy.js';
import { registerRebuild } from './rebuild.js';
import { registerReconcile } from './reconcile.js';
import { registerSimulate } from './simulate.js';
import { registerStatus } from './status.js';
import { registerTopics } from './topics.js';

/**
 * The `hub` command for operations staff. Every command lives in its own file and is registered here, in
 * the order `hub --help` lists them; a new command is a new file and one line in COMMANDS. Each is given
 * the hub's configuration, built once by the entry point.
 */
const COMMANDS: readonly ((program: Command, config: HubConfig) => void)[] = [
  registerPolicy,
  registerTopics,
  registerSimulate,
  registerDisclosure,
  registerReconcile,
  registerStatus,
  registerDeadLetters,
  registerRebuild,
  registerAcl,
];

const ROOT_HELP = `
Environment:
  HUB_NAMESPACE        the prefix of every topic, consumer group and Redis key (default medfund);
                       --namespace NAME on any command sets it for that command
  KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL
                       where the hub runs; set all three, or none to use the local stack's .stack.env

Exit codes:
  0  done
  1  a finding (a disclosure that fails verification, nothing published for a period) or a failure
     (configuration, Kafka, the registry or Redis)
  2  usage: an unknown command or option, a bad value, bad input on stdin

Every command and subcommand answers --help.`;

/** The whole command tree; each command keeps a "(see hub X --help)" hint and its path in error lines. */
export function buildProgram(config: HubConfig): Command {
  const program = new Command('hub')
    .description(
      'operations for the medfund hub (职工大额医疗费用补助): topics, status, dead letters, policy checks',
    )
    .option(
      '--namespace <name>',
      'the namespace of this hub: prefix of its topics, groups and keys (HUB_NAMESPACE)',
    )
    .exitOverride()
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText('after', ROOT_HELP);
  for (const register of COMMANDS) register(program, config);
  finish(program, 'hub');
  return program;
}

function finish(command: Command, path: string): void {
  command
    .exitOverride()
    .showHelpAfterError(`(see ${path} --help)`)
    .configureOutput({
      outputError: (text, write) => write(`${path}: ${text.replace(/^error: /, '')}`),
    });
  for (const sub of command.commands) finish(sub, `${path} ${sub.name()}`);
}

/** The path of a command for messages: "hub disclosure verify". */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Parses and runs `argv`; returns the exit code. Failures are told in one line; anything else is a bug. */
export async function runHub(argv: readonly string[], config: HubConfig): Promise<number> {
  const program = buildProgram(config);
  let running: Command = program;
  program.hook('preAction', (_root, action) => {
    running = action;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return takeExitCode();
  } catch (error) {
    takeExitCode();
    if (error instanceof CommanderError) {
      // Commander has written the message (or the help); any refusal of the command line is usage.
      return error.exitCode === 0 ? EXIT.done : EXIT.usage;
    }
    const path = commandPath(running);
    if (error instanceof UsageError) {
      process.stderr.write(`${path}: ${error.message}\n(see ${path} --help)\n`);
      return EXIT.usage;
    }
    // Configuration and I/O failures are told in one line; anything else is a bug and keeps its stack.
    if (!(error instanceof HubError)) throw error;
    process.stderr.write(`${path}: ${error.message}\n`);
    return EXIT.finding;
  }
}
