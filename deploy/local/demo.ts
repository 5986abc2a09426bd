import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { applyAcls, hubAcls } from '../../services/hub-cli/acl.js';
import { serviceLag } from '../../services/hub-cli/status.js';
import { createTopics } from '../../services/hub-cli/topics.js';
import { formatSummary, summarise } from '../../services/reconciler/summary.js';
import { ADMIN_PRINCIPAL } from '../../shared/acl.js';
import { type Endpoints, type HubConfig, hubConfigFromEnvironment, REPO_ROOT } from '../../shared/config.js';
import { createKafka } from '../../shared/kafka.js';
import { createLogger } from '../../shared/logger.js';
import { ProgressBar } from '../../shared/progress.js';
import { readTopic } from '../../shared/read-topic.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { allTopics, topicsFor } from '../../shared/topics.js';
import { CHILD_STOP_MS, REAPER_READY, type ReapedChild, stopChildren } from './demo-reaper.js';
import { StackError } from './errors.js';
import { stackDown, stackOptionsFromEnvironment, stackUp } from './launcher.js';
import { principalEnvironment, secretsDir } from './secure.js';

/**
 * `npm run demo`: the hub's main job on one machine. Starts the local stack (secured unless
 * HUB_STACK_SECURE=0), creates the topics and their ACLs, starts every service under its own
 * principal, publishes a synthetic year for Kaifeng and Dehong as admin (standing in for the agencies),
 * waits until everything is processed, prints each region's reconciliation summary and annual
 * disclosure, and serves the disclosure page until Ctrl-C.
 */

const REGIONS = ['410200', '533100'] as const;
// Every service of services/catalogue.ts, each its own process, in the order records flow.
const SERVICES = [
  'premium-ingest',
  'settlement-ingest',
  'payout-ingest',
  'accounting',
  'reconciler',
  'hospital-reconciler',
  'disclosure',
] as const;

interface DemoOptions {
  members: number;
  year: number;
  seed: number;
  serve: boolean;
  port: number;
}

const USAGE = `usage: npm run demo [-- --members N] [--year YYYY] [--seed S] [--port P] [--no-serve]

  --members N   members per region (default 2000)
  --year YYYY   the insurance year to simulate (default 2025; holiday data covers up to 2026)
  --seed S      the simulation's seed (default 1)
  --port P      where the disclosure page is served (default 8088)
  --no-serve    stop after printing the summaries instead of serving the page
`;

function parseArgs(argv: string[]): DemoOptions {
  const options: DemoOptions = { members: 2000, year: 2025, seed: 1, serve: true, port: 8088 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--no-serve') {
      options.serve = false;
      continue;
    }
    const value = argv[++i];
    const n = Number(value);
    if (!value || !Number.isInteger(n) || n <= 0)
      throw new StackError(`${flag ?? ''} needs a positive whole number\n${USAGE}`);
    if (flag === '--members') options.members = n;
    else if (flag === '--year') options.year = n;
    else if (flag === '--seed') options.seed = n;
    else if (flag === '--port') options.port = n;
    else throw new StackError(`unknown option ${flag}\n${USAGE}`);
  }
  return options;
}

const say = (line: string) => process.stderr.write(`demo: ${line}\n`);

/**
 * Stopping. Ctrl-C sends SIGINT to the whole process group: npm, tsx and the demo each get one, tsx and
 * npm relay theirs, and the demo's own children (the services, `hub simulate`) stop and exit too. So the
 * demo listens for every signal, not just the first (a second one would otherwise kill it half-way through
 * stopping, leaving Kafka and the registry running), and a child that dies of the same Ctrl-C must not
 * make it exit before it has stopped what it started. Each step that starts something adds how to undo it.
 * tsx may still SIGKILL the demo (it does when the demo acknowledges a relayed signal late, and npm's
 * relay makes a second one at the same moment): then the reaper (deploy/local/demo-reaper.ts), a process
 * of its own session, stops what the demo left.
 */
const undo: (() => Promise<void>)[] = [];
let starting: Promise<unknown> | undefined;
let stopping: Promise<never> | undefined;

function stopDemo(code: number, why: string): Promise<never> {
  stopping ??= (async () => {
    say(why);
    // Whatever is starting finishes first (a half-started stack cannot be stopped from its state file).
    await starting?.catch(() => {});
    for (const step of undo.reverse()) {
      // One step failing must not leave the later ones (the stack) undone.
      await step().catch((error: unknown) => say(`could not undo a step: ${(error as Error).message}`));
    }
    process.exit(code);
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) say(`${signal}: already stopping (Kafka takes a few seconds)`);
    void stopDemo(0, `${signal}: stopping what the demo started`);
  });
}

/** Secrets the services need; generated for the demo and kept beside the stack's data, never in git. */
function demoSecrets(stateDir: string): { pseudonymKey: string; signingKey: string } {
  const dir = join(stateDir, 'demo');
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, 'pseudonym.key');
  const signingFile = join(dir, 'disclosure-signing-key.pem');
  if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  if (!existsSync(signingFile)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(signingFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  return {
    pseudonymKey: process.env.HUB_PSEUDONYM_KEY || readFileSync(keyFile, 'utf8'),
    signingKey: process.env.HUB_DISCLOSURE_SIGNING_KEY || readFileSync(signingFile, 'utf8'),
  };
}

/** demo-<UTC time to the second>: a namespace of this run's own. */
function demoNamespace(): string {
  return `demo-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const stackOptions = stackOptionsFromEnvironment(process.env, { log: (line) => say(line) });
  const stack = stackUp(stackOptions);
  starting = stack;
  const { endpoints, started } = await stack;
  if (started) startReaper();
  undo.push(async () => {
    if (started) await stackDown(stackOptions);
    else say('the stack keeps running (npm run stack:down stops it)');
  });
  if (stopping) await stopping;
  const secrets = endpoints.security?.kafka ? secretsDir(stackOptions.stateDir) : undefined;
  const asPrincipal = (principal: string) => principalEnvironment(endpoints, secrets, principal);
  // Each run gets topics, groups and Redis keys of its own, so a second run never sees the first one's
  // events as duplicates.
  const config = hubConfigFromEnvironment(process.env, process.env.HUB_NAMESPACE || demoNamespace());
  const env = serviceEnvironment(
    asPrincipal(ADMIN_PRINCIPAL),
    demoSecrets(stackOptions.stateDir),
    options,
    config,
  );
  say(`namespace ${config.namespace} (topics, groups and Redis keys of this run)`);
  say(
    secrets
      ? `secured: each service runs as its own principal (credentials in ${secrets}); hub simulate and hub disclosure show as admin`
      : 'NOT secured: a plain stack, every process without credentials (HUB_STACK_SECURE=0 or a plain stack already running)',
  );

  const { kafka, codec } = await createHubTopics(endpoints, config);
  const logDir = join(stackOptions.stateDir, 'demo', config.namespace);
  mkdirSync(logDir, { recursive: true });
  const children = startServices(env, asPrincipal, logDir);

  for (const region of REGIONS) {
    const truth = join(logDir, `simulate-${region}-${options.year}.truth.json`);
    const args = [
      'simulate',
      '--region',
      region,
      '--year',
      String(options.year),
      '--members',
      String(options.members),
    ];
    await runHub([...args, '--seed', String(options.seed), '--truth', truth, '--in-order'], env);
  }

  await waitForProcessing(kafka, config);
  say('publishing the disclosures');
  children.find((c) => c.name === 'disclosure')?.process.kill('SIGUSR1');
  await waitForDisclosures(options.port, options.year);
  await printSummaries(kafka, codec, env, options.year, config);

  const url = `http://127.0.0.1:${options.port}/`;
  say(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  process.stdout.write(
    `\n公示页面 disclosure page: ${url}\nJSON ${url}disclosures.json · CSV ${url}disclosures.csv · Atom ${url}disclosures.atom\n` +
      `verify: npx hub disclosure verify --url ${url}disclosures.json\n`,
  );
  if (!options.serve) return stopDemo(0, 'done: stopping what the demo started');
  say('serving the disclosure page; Ctrl-C stops the demo');
  await new Promise(() => {});
  return 0;
}

/**
 * Starts the reaper for the stack this run started: detached (a session of its own, so Ctrl-C does not
 * reach it), with an IPC channel whose closing tells it the demo has ended. Neither the reaper nor its
 * channel keeps the demo running.
 */
let reaperReady: Promise<ChildProcess | undefined> = Promise.resolve(undefined);

function startReaper(): void {
  const reaper = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'deploy/local/demo-reaper.ts')],
    {
      cwd: REPO_ROOT,
      detached: true,
      env: process.env,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    },
  );
  reaper.unref();
  reaper.channel?.unref();
  reaperReady = new Promise((resolve) => {
    reaper.once('message', (message) => resolve(message === REAPER_READY ? reaper : undefined));
    reaper.once('exit', (code) => {
      resolve(undefined);
      if (!stopping)
        say(`the reaper exited (${code}): if the demo is killed, npm run stack:down stops its stack`);
    });
  });
}

/** Names children to the reaper once it listens; a reaper that failed is told nothing. */
function tellReaper(children: ReapedChild[]): void {
  void reaperReady.then((reaper) => {
    if (reaper?.connected) reaper.send({ children }, () => {});
  });
}

/**
 * What every process the demo starts gets: the stack as `principal` sees it (principalEnvironment: the
 * endpoints, and on a secured stack the principal's name and the paths of its password and CA), the
 * namespace, the demo's secrets and its feed port. The `hub` commands run with admin's; each service's
 * own principal replaces it when it starts (startService).
 */
function serviceEnvironment(
  principal: Record<string, string>,
  secrets: { pseudonymKey: string; signingKey: string },
  options: DemoOptions,
  config: HubConfig,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...principal,
    HUB_NAMESPACE: config.namespace,
    HUB_PSEUDONYM_KEY: secrets.pseudonymKey,
    HUB_DISCLOSURE_SIGNING_KEY: secrets.signingKey,
    HUB_DISCLOSURE_PORT: String(options.port),
    // Published once, after the year is processed (SIGUSR1 below), not while it streams in.
    HUB_DISCLOSURE_INTERVAL_SECONDS: '3600',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
}

/**
 * Creates this run's topics, registers their schemas and, on a secured stack, applies the namespace's ACLs
 * (services/catalogue.ts); the Kafka client (admin) and codec read the results.
 */
async function createHubTopics(
  endpoints: Endpoints,
  config: HubConfig,
): Promise<{ kafka: Kafka; codec: TopicCodec }> {
  const kafka = createKafka(endpoints, 'demo', createLogger('demo', 'error'));
  const admin = kafka.admin();
  await admin.connect();
  const topics = allTopics(topicsFor(config));
  await createTopics(admin, topics, endpoints.kafkaBrokers.length);
  if (endpoints.security?.kafka) {
    const acls = hubAcls(config);
    await applyAcls(admin, acls);
    say(`${acls.length} ACLs applied for namespace ${config.namespace}`);
  }
  await admin.disconnect();
  const codec = new TopicCodec(createRegistry(endpoints), endpoints.schemaRegistryUrl);
  await codec.prepare(topics);
  say(`topics created and ${topics.length} schemas registered`);
  return { kafka, codec };
}

/** Every service as its own process, as its own principal; one that exits on its own stops the demo. */
function startServices(
  env: NodeJS.ProcessEnv,
  asPrincipal: (principal: string) => Record<string, string>,
  logDir: string,
) {
  const children = SERVICES.map((service) =>
    startService(service, { ...env, ...asPrincipal(service) }, logDir),
  );
  tellReaper(children.map((c) => c.reaped));
  undo.push(async () => {
    say('stopping the services');
    // Bounded: a service that hangs on the way out must not keep the stack running.
    await stopChildren(
      children.map((c) => c.reaped),
      say,
      CHILD_STOP_MS,
    );
    await Promise.all(children.map((c) => c.exited));
  });
  for (const child of children) {
    child.process.once('exit', (code, signal) => {
      if (!stopping) void stopDemo(1, `${child.name} exited with ${code ?? signal}; its log: ${child.log}`);
    });
  }
  say(`services started: ${SERVICES.join(', ')} (logs in ${logDir})`);
  return children;
}

/** Each region's reconciliation summary, then its annual disclosure as `hub disclosure show` prints it. */
async function printSummaries(
  kafka: Kafka,
  codec: TopicCodec,
  env: NodeJS.ProcessEnv,
  year: number,
  config: HubConfig,
) {
  const results = await readTopic<'reconciliation-result'>(kafka, codec, topicsFor(config).reconciliation, {
    idleMs: 2000,
    namespace: config.namespace,
  });
  for (const region of REGIONS) {
    process.stdout.write(`\n${'='.repeat(100)}\n${regionName(region)} 对账汇总 reconciliation summary\n`);
    process.stdout.write(
      `${formatSummary(summarise(results.filter((r) => r.regionCode === region)), { top: 8 })}\n`,
    );
  }
  await runHub(['disclosure', 'show', '--region', REGIONS[0], '--period', String(year)], env);
  await runHub(['disclosure', 'show', '--region', REGIONS[1], '--period', String(year)], env);
}

function regionName(code: string): string {
  return code === '410200' ? '开封 Kaifeng 410200' : code === '533100' ? '德宏 Dehong 533100' : code;
}

function startService(name: string, env: NodeJS.ProcessEnv, logDir: string) {
  const log = join(logDir, `${name}.log`);
  const out = openSync(log, 'a');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', `services/${name}/main.ts`], {
    cwd: REPO_ROOT,
    env: { ...env, HUB_INSTANCE_ID: `demo-${name}` },
    stdio: ['ignore', out, out],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const reaped: ReapedChild = { name, pid: child.pid ?? 0, marker: `services/${name}/main.ts` };
  return { name, process: child, log, exited, reaped };
}

function runHub(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'services/hub-cli/hub.js'), ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (child.pid !== undefined)
      tellReaper([{ name: `hub ${args[0]}`, pid: child.pid, marker: 'services/hub-cli/hub.js' }]);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new StackError(`hub ${args.join(' ')} exited with ${code}`)),
    );
  });
}

/**
 * Waits until every service has caught up, showing progress stage by stage: the three ingest services
 * over the input topics, accounting over the journal, the reconciler and the disclosure publisher over
 * the ledger, the hospital stage over the hospital-month changes.
 */
async function waitForProcessing(kafka: ReturnType<typeof createKafka>, config: HubConfig): Promise<void> {
  const deadline = Date.now() + 15 * 60_000;
  for (const [phase, services] of [
    ['ingest', ['premium-ingest', 'settlement-ingest', 'payout-ingest']],
    ['journal', ['accounting']],
    ['ledger', ['reconciler', 'disclosure']],
    ['hospital-month', ['hospital-reconciler']],
  ] as const) {
    const ofPhase = async () =>
      (await serviceLag(kafka, config)).filter((r) => (services as readonly string[]).includes(r.service));
    const first = await ofPhase();
    const bar = new ProgressBar({
      total: first.reduce((s, r) => s + r.end, 0),
      stream: process.stderr,
      unit: `${phase} messages`,
    });
    for (let calm = 0; calm < 2; ) {
      const rows = await ofPhase();
      bar.update(rows.reduce((s, r) => s + r.committed, 0));
      calm = rows.every((r) => r.lag === 0) ? calm + 1 : 0;
      if (Date.now() > deadline)
        throw new StackError('services did not catch up within 15 minutes; see their logs');
      await sleep(1000);
    }
    bar.finish();
  }
}

/** Waits until the disclosure service serves the year's disclosure of both regions. */
async function waitForDisclosures(port: number, year: number): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/disclosures.json`);
      if (response.ok) {
        const text = await response.text();
        if (REGIONS.every((r) => text.includes(`"${r}"`)) && text.includes(`"${year}"`)) return;
      }
    } catch {
      // not listening yet
    }
    await sleep(1000);
  }
  throw new StackError('no annual disclosures after 3 minutes; see the disclosure service log');
}

try {
  process.exitCode = await main();
} catch (error) {
  // A child that died of the same Ctrl-C: the signal handler is already stopping everything.
  if (stopping) await stopping;
  // Anything else still stops what was started; a bug keeps its stack trace.
  await stopDemo(1, error instanceof StackError ? error.message : String((error as Error).stack ?? error));
}
