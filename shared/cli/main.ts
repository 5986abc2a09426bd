import { runPolicy } from './policy.js';

/** One command-line tool for operations staff (design.md §3 "Operations"). */
const commands: Record<string, { summary: string; run: (args: string[]) => Promise<number> }> = {
  policy: { summary: 'check a policy decision by hand (JSON on stdin, JSON on stdout)', run: runPolicy },
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

process.exitCode = await main(process.argv.slice(2));
