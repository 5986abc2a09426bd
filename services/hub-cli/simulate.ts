import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { enabledFaults, generateYear, minimumMembers } from '../../deploy/simulate/generate.js';
import { MAX_BATCH, type PublishReport, publishSimulation } from '../../deploy/simulate/publish.js';
import { FAULT_KINDS, type FaultKind, type GroundTruth } from '../../deploy/simulate/truth.js';
import { type HubConfig, loadEndpoints } from '../../shared/config.js';
import { loadPseudonymKey } from '../../shared/identity.js';
import { createKafka } from '../../shared/kafka.js';
import { createLogger } from '../../shared/logger.js';
import { coverYearParams, loadRegions } from '../../shared/policy/regions.js';
import { workingDayYears } from '../../shared/policy/workingDays.js';
import { ProgressBar } from '../../shared/progress.js';
import { topicsFor } from '../../shared/topics.js';
import { exitWith, regionOption, UsageError } from './options.js';
import { serviceLag } from './status.js';

// Accounting too: the journal's order per member is what a real year's publication order would give.
const INGEST = ['premium-ingest', 'settlement-ingest', 'payout-ingest', 'accounting'];

/** Resolves once the three ingest services have committed everything published so far. */
function ingestCaughtUp(kafka: ReturnType<typeof createKafka>, config: HubConfig): () => Promise<void> {
  return async () => {
    const deadline = Date.now() + 120_000;
    while ((await serviceLag(kafka, config)).some((r) => INGEST.includes(r.service) && r.lag > 0)) {
      if (Date.now() > deadline)
        throw new Error(
          '--in-order: the ingest services did not catch up within 2 minutes; are they running?',
        );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
}

const DESCRIPTION = `publish a realistic synthetic insurance year for a region, with injected faults

Generates premiums, direct settlements and reversals, the insurer's monthly settlements, manual claims and operating costs, injects faults the hub must catch, writes the ground truth as JSON and publishes the events to the input topics.`;

interface SimulateOptionValues {
  readonly region?: string;
  readonly year?: string;
  readonly members?: string;
  readonly seed?: string;
  readonly truth?: string;
  /** The list given with --faults, false after --no-faults. */
  readonly faults?: string | false;
  readonly dryRun?: boolean;
  readonly inOrder?: boolean;
}

/**
 * `hub simulate`'s options on a command. The values are checked together afterwards (a year's manual
 * claims need its holiday data, the faults need enough members); `given` counts how often each was written,
 * so a repeated option and --faults with --no-faults are refused instead of the last one silently winning.
 */
function simulateOptions(command: Command): { command: Command; given: Map<string, number> } {
  command
    .summary('publish a realistic synthetic insurance year for a region, with injected faults')
    .description(DESCRIPTION)
    .addOption(regionOption('a region with a policy file'))
    .option('--year <year>', 'the insurance (cover) year (default 2025)')
    .option(
      '--members <n>',
      `insured members (default 2000; at least ${minimumMembers([...FAULT_KINDS])} with faults)`,
    )
    .option('--seed <n>', 'PRNG seed (default 1): the same seed gives the same events')
    .option('--truth <file>', 'where to write the ground truth (default simulate-<region>-<year>.truth.json)')
    .option('--faults <kinds>', `only these faults, comma-separated: ${FAULT_KINDS.join(', ')}`)
    .option('--no-faults', 'publish an honest year')
    .option('--dry-run', 'generate and write the ground truth, publish nothing')
    .option(
      '--in-order',
      'before switching input topic, wait until the ingest services have caught up, so they see the year in publication order as over a real year (the ground truth assumes it)',
    );
  const given = new Map<string, number>();
  for (const option of command.options) {
    const flag = option.long as string;
    command.on(`option:${option.name()}`, () => given.set(flag, (given.get(flag) ?? 0) + 1));
  }
  return { command, given };
}

export function registerSimulate(program: Command, config: HubConfig): void {
  const { command, given } = simulateOptions(program.command('simulate'));
  command.action(
    exitWith(async (options: SimulateOptionValues) => {
      const parsed = checkSimulateOptions(options, given, process.cwd());
      if (parsed.kind === 'invalid') throw new UsageError(parsed.message);
      return runSimulate(parsed.args, config);
    }),
  );
}

// Everything is generated in memory first: 100 000 members are ~240 000 events and ~2 GB.
const MAX_MEMBERS = 100_000;

export interface SimulateArgs {
  readonly region: string;
  readonly year: number;
  readonly members: number;
  readonly seed: number;
  readonly truthFile: string;
  readonly faults: readonly FaultKind[];
  readonly dryRun: boolean;
  readonly inOrder: boolean;
}

export type ParsedSimulateArgs =
  | { readonly kind: 'run'; readonly args: SimulateArgs }
  | { readonly kind: 'help' }
  | { readonly kind: 'invalid'; readonly message: string };

const invalid = (message: string) => ({ kind: 'invalid', message }) as const;

function integer(text: string): number | undefined {
  return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}

/** Reads and checks `hub simulate`'s arguments (as the command does); a bad one gives a message naming it. */
export function parseSimulateArgs(argv: readonly string[], cwd = process.cwd()): ParsedSimulateArgs {
  const { command, given } = simulateOptions(new Command('simulate'));
  let message = '';
  command.exitOverride().configureOutput({
    writeOut: () => {},
    writeErr: () => {},
    outputError: (text: string) => {
      message = text.replace(/^error: /, '').trimEnd();
    },
  });
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return error.exitCode === 0 ? { kind: 'help' } : invalid(message);
  }
  return checkSimulateOptions(command.opts<SimulateOptionValues>(), given, cwd);
}

type Invalid = ReturnType<typeof invalid>;
const isInvalid = (value: unknown): value is Invalid =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'invalid';

/** The values of `hub simulate`'s options, checked together. */
function checkSimulateOptions(
  options: SimulateOptionValues,
  given: ReadonlyMap<string, number>,
  cwd: string,
): Exclude<ParsedSimulateArgs, { kind: 'help' }> {
  const twice = [...given].find(([, n]) => n > 1);
  if (twice !== undefined) return invalid(`${twice[0]} is given twice`);
  const region = options.region;
  if (region === undefined)
    return invalid(`--region is required (known: ${[...loadRegions().keys()].join(', ')})`);
  const year = checkYear(region, options.year ?? '2025');
  if (isInvalid(year)) return year;
  const faults = checkFaults(options, given);
  if (isInvalid(faults)) return faults;
  const members = checkMembers(options.members ?? '2000', faults);
  if (isInvalid(members)) return members;
  const seedText = options.seed ?? '1';
  const seed = integer(seedText);
  if (seed === undefined || seed > 0xffff_ffff)
    return invalid(`--seed ${seedText}: expected a whole number from 0 to 4294967295`);
  const truthFile = checkTruthFile(cwd, options.truth, `simulate-${region}-${year}.truth.json`);
  if (isInvalid(truthFile)) return truthFile;
  return {
    kind: 'run',
    args: {
      region,
      year,
      members,
      seed,
      truthFile,
      faults,
      dryRun: options.dryRun === true,
      inOrder: options.inOrder === true,
    },
  };
}

/** A year the region has rules for, whose manual claims' working days the holiday data can count. */
function checkYear(region: string, yearText: string): number | Invalid {
  const year = integer(yearText);
  if (year === undefined || year < 1900 || year > 2999)
    return invalid(`--year ${yearText}: expected a year such as 2025`);
  const inForce = coverYearParams(region, year, '--year');
  if (!inForce.ok) return invalid(`--year ${year}: ${inForce.error.rule}`);
  const params = inForce.value;
  const { firstYear, lastYear } = workingDayYears();
  // Dehong art. 16: claims of a year may be paid until 31 March of the next; their working days must be countable.
  const lastPaidYear = year + params.manualClaim.deadlineYearOffset;
  if (year - 1 < firstYear || lastPaidYear > lastYear) {
    return invalid(
      `--year ${year}: its manual claims are paid up to ${lastPaidYear}, but the holiday data (chinese-days and shared/policy/holidays/) covers ${firstYear}–${lastYear}; use a year from ${firstYear + 1} to ${lastYear - params.manualClaim.deadlineYearOffset}, or add shared/policy/holidays/${lastPaidYear}.json`,
    );
  }
  return year;
}

/** Every fault by default; none with --no-faults; the named ones with --faults. */
function checkFaults(
  options: SimulateOptionValues,
  given: ReadonlyMap<string, number>,
): readonly FaultKind[] | Invalid {
  let faults: readonly FaultKind[] = [...FAULT_KINDS];
  const noFaults = given.has('--no-faults');
  if (noFaults && given.has('--faults')) return invalid('--no-faults and --faults exclude each other');
  if (noFaults) faults = [];
  const faultList = options.faults;
  if (typeof faultList === 'string') {
    const names = faultList.split(',').map((name) => name.trim().toUpperCase());
    const unknown = names.filter((name) => !(FAULT_KINDS as readonly string[]).includes(name));
    if (unknown.length > 0) {
      return invalid(`--faults: unknown fault ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
    }
    faults = enabledFaults(names as FaultKind[]);
  }
  return faults;
}

/** Enough members to hide the faults among ordinary ones. */
function checkMembers(membersText: string, faults: readonly FaultKind[]): number | Invalid {
  const members = integer(membersText);
  const minimum = minimumMembers(faults);
  if (members === undefined || members > MAX_MEMBERS) {
    return invalid(`--members ${membersText}: expected a whole number from ${minimum} to ${MAX_MEMBERS}`);
  }
  if (members < minimum) {
    return invalid(
      faults.length > 0
        ? `--members ${members}: at least ${minimum} members are needed to inject the faults among ordinary members (or pass --no-faults)`
        : `--members ${members}: at least ${minimum} member is needed`,
    );
  }
  return members;
}

/** The truth file's path: in a folder that exists, and not itself a folder. */
function checkTruthFile(cwd: string, given: string | undefined, fallback: string): string | Invalid {
  const truthFile = resolve(cwd, given ?? fallback);
  const folder = dirname(truthFile);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    return invalid(`--truth ${given ?? truthFile}: folder ${folder} does not exist`);
  }
  if (existsSync(truthFile) && statSync(truthFile).isDirectory()) {
    return invalid(`--truth ${truthFile}: is a folder, expected a file name`);
  }
  return truthFile;
}

export async function runSimulate(args: SimulateArgs, config: HubConfig): Promise<number> {
  // The truth names members by the hub's pseudonyms: the same key the services use (stops here if unset).
  const pseudonymKey = loadPseudonymKey(process.env);

  const topics = topicsFor(config);
  const started = performance.now();
  const { events, truth } = generateYear({ ...args, pseudonymKey, topics });
  const generatedIn = (performance.now() - started) / 1000;
  writeFileSync(args.truthFile, `${JSON.stringify(truth, null, 2)}\n`);
  process.stderr.write(
    `generated ${events.length} events for ${truth.regionName} ${args.year} (${args.members} members, seed ${args.seed}) in ${generatedIn.toFixed(1)} s\n`,
  );

  let report: PublishReport | undefined;
  if (!args.dryRun) {
    const endpoints = loadEndpoints();
    const logger = createLogger('hub-simulate', 'error');
    const progress = new ProgressBar({ total: events.length, stream: process.stderr, unit: 'events' });
    try {
      report = await publishSimulation(
        events,
        { endpoints, logger, topics },
        {
          batchSize: MAX_BATCH,
          onProgress: (done) => progress.update(done),
          ...(args.inOrder
            ? { beforeTopicChange: ingestCaughtUp(createKafka(endpoints, 'hub-simulate', logger), config) }
            : {}),
        },
      );
    } finally {
      progress.finish();
    }
  }
  process.stdout.write(summary(truth, args, report));
  return 0;
}

function summary(truth: GroundTruth, args: SimulateArgs, report: PublishReport | undefined): string {
  const lines: string[] = [];
  const c = truth.counts;
  lines.push(
    `${truth.regionName} (${truth.region}) insurance year ${truth.year}: ${truth.members} members, seed ${truth.seed}`,
  );
  lines.push(
    report === undefined
      ? `dry run: ${c.published.total} events generated, nothing published`
      : `published ${report.published} events in ${report.sends} sends, ${report.seconds.toFixed(1)} s (${Math.round(report.published / Math.max(report.seconds, 0.001))}/s)`,
  );
  lines.push('', 'events by record:');
  for (const [kind, n] of Object.entries(c.published.by).sort())
    lines.push(`  ${kind.padEnd(30)} ${String(n).padStart(8)}`);
  lines.push('events by topic:');
  for (const [topic, n] of Object.entries(c.published.byTopic).sort())
    lines.push(`  ${topic.padEnd(40)} ${String(n).padStart(8)}`);
  lines.push(
    '',
    `expected: ${c.ledgerPostings.total} ledger postings + ${c.deadLetters.total} dead letters = ${c.published.total} events in`,
  );
  for (const [code, n] of Object.entries(c.deadLetters.by).sort())
    lines.push(`  dead letter ${code.padEnd(24)} ${String(n).padStart(4)}`);
  lines.push('', args.faults.length === 0 ? 'faults: none (--no-faults)' : 'faults injected:');
  for (const fault of truth.faults.injected) {
    const items = fault.reconciliation.map((item) => `${item.itemId} ${item.status}`);
    lines.push(`  ${fault.kind}: ${fault.events.length} event(s)`);
    for (const item of items) lines.push(`    ${item}`);
    for (const dl of fault.deadLetters)
      lines.push(`    dead letter ${dl.service} ${dl.errorCode} (${dl.field})`);
  }
  const d = truth.distribution;
  const t = truth.totals;
  lines.push(
    '',
    `members with settlements ${d.membersWithSettlements}, reaching the basic cap ${d.membersReachingBasicCap}, with manual claims ${d.membersWithManualClaims}`,
    `premium income ${t.premiumIncome}, supplement due ${t.directSupplementDue} (claimed ${t.directSupplementClaimed}), manual claims ${t.manualClaimsPaid}, operating cost ${t.operatingCost} (${(Number(t.operatingCostRatio) * 100).toFixed(1)} %)`,
    `ground truth: ${args.truthFile}`,
    '',
  );
  return lines.join('\n');
}
