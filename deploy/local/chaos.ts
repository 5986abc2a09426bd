import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_NAMES } from '../../services/catalogue.js';
import { REPO_ROOT } from '../../shared/config.js';
import { compareOutcomes, type Difference } from './chaos-outcome.js';
import { chaosRedisRunning, chaosRedisUrl, killChaosRedis, startChaosRedis } from './chaos-redis.js';
import type { RunReport, RunSpec } from './chaos-run.js';
import {
  type ChaosFault,
  chaosSchedule,
  killCount,
  OPTIONAL_FAULTS,
  type OptionalFault,
  slicesFor,
} from './chaos-schedule.js';
import { StackError } from './errors.js';
import { stackDown, stackOptionsFromEnvironment, stackUp } from './launcher.js';

/**
 * `npm run chaos`: one simulated year of both regions, processed twice on the 3-node local cluster, every
 * service its own process: once without faults, once in a fresh namespace under a seeded schedule of
 * faults (chaos-schedule.ts). The outcomes must be identical (chaos-outcome.ts); the table of what was
 * injected and the comparison are printed, and the exit code is 1 on any difference.
 *
 * On a PLAIN cluster, an explicit exception to the secured default (README, "Security"): the faults
 * (SIGKILLed brokers, Redis and registry restarts, a second instance) are what is under test, and its
 * Redis is one of its own that it kills and restarts; it says so when it starts.
 */

interface ChaosOptions {
  seed: number;
  kills: number;
  members: number;
  chunk: number;
  keepStack: boolean;
  baseline?: string;
  keep?: string;
  without: OptionalFault[];
}

const USAGE = `usage: npm run chaos [-- --seed S] [--kills K] [--members N] [--chunk C] [--baseline run.json] [--keep DIR]
                      [--without second-instance,registry,redis] [--keep-stack]

  --seed S         the seed of the year and of the fault schedule (default 1)
  --kills K        SIGKILLs of services in the faulted run, at least 3 (default 20)
  --members N      members per region (default 100; below 100 the simulator injects no bad records)
  --chunk C        messages per transaction, HUB_MAX_CHUNK (default 50: many transactions to kill)
  --baseline F     take the fault-free run from F (a fault-free run.json kept by --keep) instead of running it
  --keep DIR       write both runs' reports (run.json) and the services' logs into DIR
  --without LIST   leave out some of: second-instance,registry,redis (the kills and the broker always run)
  --keep-stack     leave the cluster and the chaos Redis running afterwards (npm run stack:down stops the cluster)

environment: HUB_KAFKA_PORT (9092: nodes on it, +2, +4), HUB_REGISTRY_PORT (8081), HUB_STACK_DIR,
HUB_CHAOS_REDIS_PORT (27379: a redis-server of the chaos run's own), HUB_CHAOS_DISCLOSURE_PORT (27088)
`;

function parseArgs(argv: string[]): ChaosOptions {
  const options: ChaosOptions = {
    seed: 1,
    kills: 20,
    members: 100,
    chunk: 50,
    keepStack: false,
    without: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--keep-stack') {
      options.keepStack = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new StackError(`${flag} needs a value\n${USAGE}`);
    if (flag === '--baseline') options.baseline = value;
    else if (flag === '--keep') options.keep = value;
    else if (flag === '--without') {
      const names = value.split(',');
      const unknown = names.filter((n) => !(OPTIONAL_FAULTS as readonly string[]).includes(n));
      if (unknown.length > 0)
        throw new StackError(`--without: unknown fault ${unknown.join(', ')}\n${USAGE}`);
      options.without = names as OptionalFault[];
    } else {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0)
        throw new StackError(`${flag} needs a positive whole number\n${USAGE}`);
      if (flag === '--seed') options.seed = n;
      else if (flag === '--kills') options.kills = n;
      else if (flag === '--members') options.members = n;
      else if (flag === '--chunk') options.chunk = n;
      else throw new StackError(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return options;
}

const say = (line: string) => process.stderr.write(`chaos: ${line}\n`);

function runOnce(runSpec: RunSpec, namespace: string, env: NodeJS.ProcessEnv): Promise<RunReport> {
  const file = join(runSpec.logDir, 'spec.json');
  mkdirSync(runSpec.logDir, { recursive: true });
  writeFileSync(file, JSON.stringify(runSpec, null, 2));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'deploy/local/chaos-run.ts', file], {
      cwd: REPO_ROOT,
      env: { ...env, HUB_NAMESPACE: namespace },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    child.once('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (code === 0) resolve(JSON.parse(readFileSync(runSpec.out, 'utf8')) as RunReport);
      else
        reject(
          new StackError(
            `the run in namespace ${namespace} failed (exit ${code}); logs in ${runSpec.logDir}`,
          ),
        );
    });
  });
}

/** The table of what was injected and when. */
export function formatInjected(report: RunReport): string {
  const rows = report.injected.map((i) => [`${i.at.toFixed(1)} s`, String(i.slice), i.fault, i.detail]);
  return table(['at', 'slice', 'fault', 'what was seen'], rows);
}

export function formatComparison(
  expected: RunReport,
  actual: RunReport,
  differences: readonly Difference[],
): string {
  const e = expected.outcome;
  const a = actual.outcome;
  const letters = (o: typeof e) => Object.values(o.counts.deadLetters).reduce((s, n) => s + n, 0);
  const differs = (prefix: string) => differences.some((d) => d.what.startsWith(prefix));
  const once = (o: typeof e) => `${o.counts.inputs - o.notAccountedOnce.length} of ${o.counts.inputs}`;
  const rows: [string, string, string, string][] = [
    [
      'ledger balances (account, region, year)',
      `${Object.keys(e.balances).length}`,
      `${Object.keys(a.balances).length}`,
      verdict(!differs('balance')),
    ],
    [
      'reconciliation items: status, amounts',
      `${Object.keys(e.items).length}`,
      `${Object.keys(a.items).length}`,
      verdict(!differs('item')),
    ],
    [
      'disclosures: figures',
      `${Object.keys(e.disclosures).length}`,
      `${Object.keys(a.disclosures).length}`,
      verdict(!differs('disclosure')),
    ],
    [
      'input messages: published, on the input topics',
      `${e.counts.published}, ${e.counts.inputs}`,
      `${a.counts.published}, ${a.counts.inputs}`,
      verdict(
        !differs('count published') &&
          !differs('count inputs') &&
          !differences.some((d) => d.what.includes('hold what was published')),
      ),
    ],
    [
      'own postings',
      `${e.counts.ownPostings}`,
      `${a.counts.ownPostings}`,
      verdict(!differs('count ownPostings')),
    ],
    [
      'dead letters (by service and code)',
      `${letters(e)}`,
      `${letters(a)}`,
      verdict(!differs('count deadLetters')),
    ],
    [
      'end-of-collection notices',
      `${e.counts.notices}`,
      `${a.counts.notices}`,
      verdict(!differs('count notices')),
    ],
    [
      'inputs ending as exactly one of those',
      once(e),
      once(a),
      verdict(e.notAccountedOnce.length + a.notAccountedOnce.length === 0),
    ],
    [
      'posting ids more than once',
      `${e.counts.repeatedPostingIds.length}`,
      `${a.counts.repeatedPostingIds.length}`,
      verdict(e.counts.repeatedPostingIds.length + a.counts.repeatedPostingIds.length === 0),
    ],
    [
      'disclosure chain verifies (hub disclosure verify)',
      e.chainProblems.length === 0 ? 'yes' : 'no',
      a.chainProblems.length === 0 ? 'yes' : 'no',
      verdict(e.chainProblems.length + a.chainProblems.length === 0),
    ],
    ['(shown) postings with revisions', `${e.counts.postings}`, `${a.counts.postings}`, ''],
    [
      '(shown) journal records repeating an input (set aside)',
      `${e.counts.journalCopies}`,
      `${a.counts.journalCopies}`,
      '',
    ],
    [
      '(shown) dead letters written twice',
      `${e.counts.deadLetterCopies}`,
      `${a.counts.deadLetterCopies}`,
      '',
    ],
  ];
  return table(['compared', 'fault-free', 'faulted', ''], rows);
}

const verdict = (same: boolean) => (same ? 'same' : 'DIFFERENT');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const services = [...SERVICE_NAMES];
  const schedule: ChaosFault[] = chaosSchedule({
    seed: options.seed,
    kills: options.kills,
    services,
    scalable: services.filter((s) => s.endsWith('-ingest')),
    brokers: 3,
    without: options.without,
  });
  const slices = slicesFor(options.kills);
  const redisPort = Number(process.env.HUB_CHAOS_REDIS_PORT || 27379);
  const stateDir = stackOptionsFromEnvironment(process.env).stateDir;
  const stackOptions = stackOptionsFromEnvironment(process.env, {
    // Its own endpoints file: the repository's .stack.env belongs to `npm run stack:up` and the tests.
    envFile: join(stateDir, 'stack.env'),
    cluster: true,
    // The plain stack, on purpose (see above): not TLS, SCRAM or ACLs are under test here, but faults.
    secure: false,
    registryOnDisk: true,
    redisUrl: chaosRedisUrl(redisPort),
    log: (line) => say(`stack: ${line}`),
  });
  // Beside the stack's directory, not in it: stackUp and stackDown delete that one.
  const redisDir = `${stackOptions.stateDir}-chaos-redis`;
  let startedRedis = false;
  if (!chaosRedisRunning(redisDir)) {
    await startChaosRedis(redisDir, redisPort);
    startedRedis = true;
  }
  let started = false;
  try {
    say(
      'runs on a PLAIN 3-node cluster (no TLS, credentials or ACLs): an explicit exception to the secured default',
    );
    const up = await stackUp(stackOptions);
    started = up.started;
    if (up.endpoints.kafkaBrokers.length !== 3)
      throw new StackError(
        'a 1-node stack is running there: stop it (npm run stack:down) so chaos can start the cluster',
      );
    const registryCmd = join(stackOptions.stateDir, 'registry.cmdline.json');
    if (!existsSync(registryCmd) || !readFileSync(registryCmd, 'utf8').includes('jdbc:h2:file'))
      throw new StackError(
        'the running stack keeps its schemas in memory, so a registry restart would lose them: stop it (npm run stack:down) and let chaos start it',
      );

    const stamp = `${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(2).toString('hex')}`;
    const dir = options.keep ?? join(tmpdir(), `medfund-hub-chaos-${stamp}`);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    mkdirSync(dir, { recursive: true });
    const publicKeyFile = join(dir, 'disclosure-public-key.pem');
    writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KAFKA_BROKERS: up.endpoints.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: up.endpoints.schemaRegistryUrl,
      REDIS_URL: chaosRedisUrl(redisPort),
      HUB_PSEUDONYM_KEY: process.env.HUB_PSEUDONYM_KEY || randomBytes(32).toString('hex'),
      HUB_DISCLOSURE_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const common = {
      members: options.members,
      seed: options.seed,
      slices,
      maxChunk: options.chunk,
      redisPort,
      redisDir,
      disclosurePort: Number(process.env.HUB_CHAOS_DISCLOSURE_PORT || 27088),
      publicKeyFile,
    };
    say(
      `seed ${options.seed}, ${options.members} members per region, ${killCount(schedule)} kills, ${schedule.length} faults, ${slices} slices; runs in ${dir}`,
    );
    let baseline: RunReport;
    if (options.baseline) {
      baseline = JSON.parse(readFileSync(options.baseline, 'utf8')) as RunReport;
      say(`fault-free run taken from ${options.baseline} (namespace ${baseline.namespace})`);
    } else {
      say('run 1 of 2: the year without faults');
      const logDir = join(dir, 'fault-free');
      baseline = await runOnce(
        { ...common, schedule: [], out: join(logDir, 'run.json'), logDir },
        `chaos-${stamp}-a`,
        env,
      );
    }
    say('run 2 of 2: the same year under faults');
    const logDir = join(dir, 'faulted');
    const faulted = await runOnce(
      { ...common, schedule, out: join(logDir, 'run.json'), logDir },
      `chaos-${stamp}-b`,
      env,
    );

    const differences = compareOutcomes(baseline.outcome, faulted.outcome);
    process.stdout.write(
      `\nFaults injected (seed ${options.seed}, namespace ${faulted.namespace}):\n${formatInjected(faulted)}\n`,
    );
    process.stdout.write(
      `\nOutcome, fault-free run (${baseline.seconds} s) against faulted run (${faulted.seconds} s):\n`,
    );
    process.stdout.write(`${formatComparison(baseline, faulted, differences)}\n`);
    if (differences.length > 0) {
      process.stdout.write(`\n${differences.length} difference(s):\n`);
      for (const d of differences.slice(0, 40))
        process.stdout.write(`  ${d.what}: expected ${d.expected}, got ${d.actual}\n`);
    }
    process.stdout.write(
      `\nchaos: ${differences.length === 0 ? 'IDENTICAL' : 'DIFFERENT'}; ${killCount(schedule)} kills; ` +
        `total ${((Date.now() - t0) / 1000).toFixed(0)} s; reports in ${dir}\n`,
    );
    return differences.length === 0 ? 0 : 1;
  } finally {
    if (!options.keepStack) {
      if (startedRedis) await killChaosRedis(redisDir);
      if (started) await stackDown(stackOptions);
    }
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  say(error instanceof StackError ? error.message : String((error as Error).stack ?? error));
  process.exitCode = 2;
}
