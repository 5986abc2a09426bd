import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadEndpoints } from '../config.js';
import { loadPseudonymKey } from '../identity.js';
import { createKafka } from '../kafka.js';
import { createLogger } from '../logger.js';
import type { LocalDate } from '../policy/dates.js';
import { loadRegions, regionParamsOn } from '../policy/regions.js';
import { workingDayYears } from '../policy/workingDays.js';
import { ProgressBar } from '../progress.js';
import { enabledFaults, generateYear, minimumMembers } from '../simulate/generate.js';
import { MAX_BATCH, type PublishReport, publishSimulation } from '../simulate/publish.js';
import { FAULT_KINDS, type FaultKind, type GroundTruth } from '../simulate/truth.js';
import { serviceLag } from './status.js';

// Accounting too: the journal's order per member is what a real year's publication order would give.
const INGEST = ['premium-ingest', 'settlement-ingest', 'payout-ingest', 'accounting'];

/** Resolves once the three ingest services have committed everything published so far. */
function ingestCaughtUp(kafka: ReturnType<typeof createKafka>): () => Promise<void> {
  return async () => {
    const deadline = Date.now() + 120_000;
    while ((await serviceLag(kafka)).some((r) => INGEST.includes(r.service) && r.lag > 0)) {
      if (Date.now() > deadline)
        throw new Error(
          '--in-order: the ingest services did not catch up within 2 minutes; are they running?',
        );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
}

const usage = (): string => `usage: hub simulate --region <code> [--year 2025] [--members 2000] [--seed 1]
                    [--truth FILE] [--no-faults | --faults KIND,...] [--dry-run] [--in-order]

Generates a realistic synthetic insurance year for a region (premiums, direct settlements and
reversals, the insurer's monthly settlements, manual claims, operating costs), injects faults the
hub must catch, writes the ground truth as JSON and publishes the events to the input topics.

  --region    a region with a policy file: ${[...loadRegions().values()].map((r) => `${r.code} ${r.name.en}`).join(', ')}
  --year      the insurance (cover) year, default 2025
  --members   insured members, default 2000 (at least ${minimumMembers([...FAULT_KINDS])} with faults)
  --seed      PRNG seed, default 1: the same seed gives the same events
  --truth     where to write the ground truth, default simulate-<region>-<year>.truth.json
  --no-faults publish an honest year
  --faults    only these faults: ${FAULT_KINDS.join(', ')}
  --dry-run   generate and write the ground truth, publish nothing
  --in-order  before switching input topic, wait until the ingest services have caught up, so they
              see the year in publication order as over a real year (the ground truth assumes it)
`;

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

const VALUE_OPTIONS = ['--region', '--year', '--members', '--seed', '--truth', '--faults'] as const;
const FLAG_OPTIONS = ['--no-faults', '--dry-run', '--in-order'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

const invalid = (message: string): ParsedSimulateArgs => ({ kind: 'invalid', message });

function integer(text: string): number | undefined {
  return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}

/** Reads and checks `hub simulate`'s arguments; a bad one gives a message naming it and the rule. */
export function parseSimulateArgs(argv: readonly string[], cwd = process.cwd()): ParsedSimulateArgs {
  const values = new Map<ValueOption, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if ((FLAG_OPTIONS as readonly string[]).includes(name)) {
      if (eq > 0) return invalid(`${name} takes no value`);
      if (flags.has(name)) return invalid(`${name} is given twice`);
      flags.add(name);
      continue;
    }
    if (!(VALUE_OPTIONS as readonly string[]).includes(name)) {
      return invalid(
        name.startsWith('-')
          ? `unknown option '${name}'`
          : `unexpected argument '${arg}' (options start with --)`,
      );
    }
    const option = name as ValueOption;
    if (values.has(option)) return invalid(`${option} is given twice`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[i + 1];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
      return invalid(`${option} needs a value`);
    }
    if (eq < 0) i += 1;
    values.set(option, value);
  }

  const regions = [...loadRegions().keys()];
  const region = values.get('--region');
  if (region === undefined) return invalid(`--region is required (known: ${regions.join(', ')})`);
  if (!regions.includes(region)) {
    return invalid(`--region ${region}: no policy file for this region (known: ${regions.join(', ')})`);
  }

  const yearText = values.get('--year') ?? '2025';
  const year = integer(yearText);
  if (year === undefined || year < 1900 || year > 2999)
    return invalid(`--year ${yearText}: expected a year such as 2025`);
  const inForce = regionParamsOn(region, `${year}-01-01` as LocalDate, '--year');
  if (!inForce.ok) return invalid(`--year ${year}: ${inForce.error.rule}`);
  const params = inForce.value;
  const { firstYear, lastYear } = workingDayYears();
  // Dehong art. 16: claims of a year may be paid until 31 March of the next; their working days must be countable.
  const lastPaidYear = year + params.manualClaim.deadlineYearOffset;
  if (year - 1 < firstYear || lastPaidYear > lastYear) {
    return invalid(
      `--year ${year}: its manual claims are paid up to ${lastPaidYear}, but the holiday data (chinese-days) covers ${firstYear}–${lastYear}; use a year from ${firstYear + 1} to ${lastYear - params.manualClaim.deadlineYearOffset}`,
    );
  }

  let faults: readonly FaultKind[] = [...FAULT_KINDS];
  const faultList = values.get('--faults');
  if (flags.has('--no-faults') && faultList !== undefined)
    return invalid('--no-faults and --faults exclude each other');
  if (flags.has('--no-faults')) faults = [];
  if (faultList !== undefined) {
    const names = faultList.split(',').map((name) => name.trim().toUpperCase());
    const unknown = names.filter((name) => !(FAULT_KINDS as readonly string[]).includes(name));
    if (unknown.length > 0) {
      return invalid(`--faults: unknown fault ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
    }
    faults = enabledFaults(names as FaultKind[]);
  }

  const membersText = values.get('--members') ?? '2000';
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

  const seedText = values.get('--seed') ?? '1';
  const seed = integer(seedText);
  if (seed === undefined || seed > 0xffff_ffff)
    return invalid(`--seed ${seedText}: expected a whole number from 0 to 4294967295`);

  const truthFile = resolve(cwd, values.get('--truth') ?? `simulate-${region}-${year}.truth.json`);
  const folder = dirname(truthFile);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    return invalid(`--truth ${values.get('--truth') ?? truthFile}: folder ${folder} does not exist`);
  }
  if (existsSync(truthFile) && statSync(truthFile).isDirectory()) {
    return invalid(`--truth ${truthFile}: is a folder, expected a file name`);
  }

  return {
    kind: 'run',
    args: {
      region,
      year,
      members,
      seed,
      truthFile,
      faults,
      dryRun: flags.has('--dry-run'),
      inOrder: flags.has('--in-order'),
    },
  };
}

export async function runSimulate(argv: string[]): Promise<number> {
  const parsed = parseSimulateArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (parsed.kind === 'invalid') {
    process.stderr.write(`hub simulate: ${parsed.message}\n(see hub simulate --help)\n`);
    return 2;
  }
  const args = parsed.args;
  // The truth names members by the hub's pseudonyms: the same key the services use (stops here if unset).
  const pseudonymKey = loadPseudonymKey(process.env);

  const started = performance.now();
  const { events, truth } = generateYear({ ...args, pseudonymKey });
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
        { endpoints, logger },
        {
          batchSize: MAX_BATCH,
          onProgress: (done) => progress.update(done),
          ...(args.inOrder
            ? { beforeTopicChange: ingestCaughtUp(createKafka(endpoints, 'hub-simulate', logger)) }
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
