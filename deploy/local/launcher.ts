import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { ADMIN_PRINCIPAL } from '../../shared/acl.js';
import { type Endpoints, STACK_ENV_FILE, writeStackEnv } from '../../shared/config.js';
import { ioredisSecurity, kafkajsSecurity, redisConnectUrl } from '../../shared/security.js';
import { StackError } from './errors.js';
import { type FetchedKafka, type FetchedRegistry, fetchKafka, fetchRegistry } from './fetch.js';
import {
  generateStackSecrets,
  passwordFile,
  type StackSecrets,
  scramFormatArguments,
  secureBrokerProperties,
  secureRedisArguments,
} from './secure.js';

/**
 * The local stack for machines without Docker: KRaft Kafka and Apicurio Registry as Java processes
 * fetched from Maven Central, plus Redis (reused when one already answers). `up` records exactly
 * what it started in a state file; `down` stops exactly those processes and nothing else.
 */

// Kafka 4.x drops old protocol versions (KIP-896); kafkajs 2.2.4 still works with 4.3 (transactions,
// sendOffsets, read_committed) as test/integration/stack.int.spec.ts shows. README: "Local stack".
export const DEFAULT_KAFKA_VERSION = '4.3.1';
// The newest Apicurio 3.x whose all-in-one zip runs on Java 17 (3.3.x needs Java 21).
export const DEFAULT_REGISTRY_VERSION = '3.0.9';

export interface StackOptions {
  readonly kafkaVersion: string;
  readonly registryVersion: string;
  /** Three KRaft nodes (broker+controller each) instead of one, for fault tests. */
  readonly cluster: boolean;
  readonly cacheDir: string;
  readonly stateDir: string;
  readonly kafkaPort: number;
  readonly registryPort: number;
  readonly redisUrl: string;
  readonly envFile: string;
  readonly log: (line: string) => void;
  /**
   * SASL_SSL + SCRAM-SHA-512 with the StandardAuthorizer (deny by default), and a Redis of the stack's
   * own with TLS and ACL users on `redisPort` (deploy/local/secure.ts). The default; `false` (`stack:up
   * --insecure`, HUB_STACK_SECURE=0) is the plain stack, and says so when it starts.
   */
  readonly secure?: boolean;
  /** The secured stack's own Redis (HUB_REDIS_PORT, default 6380). */
  readonly redisPort?: number;
  /**
   * A Redis Cluster of three primaries (no replicas) of the stack's own, on `redisClusterPort` and the
   * two ports after it, instead of a single Redis (`stack:up --redis-cluster`; plain stacks only).
   */
  readonly redisCluster?: boolean;
  /** The first node's port of the stack's Redis Cluster (HUB_REDIS_CLUSTER_PORT, default 6390). */
  readonly redisClusterPort?: number;
  /** The services whose principals and Redis users a secured stack creates (services/catalogue.ts). */
  readonly services?: readonly { readonly name: string; readonly state?: unknown }[];
  /** Keep the registry's schemas in an H2 file beside the stack's data, so a registry restart keeps them. */
  readonly registryOnDisk?: boolean;
}

interface StartedProcess {
  readonly name: string;
  readonly pid: number;
  /** A string in the process's command line that proves a recorded pid is still ours. */
  readonly marker: string;
  readonly logFile: string;
}

interface StackState {
  readonly startedAt: string;
  readonly cluster: boolean;
  readonly kafkaVersion: string;
  readonly registryVersion: string;
  readonly processes: StartedProcess[];
  readonly endpoints: Endpoints;
  /** A secured stack's .stack.env additions (paths to its secrets, never the secrets). */
  readonly secureEnv?: Readonly<Record<string, string>>;
}

export function stackOptionsFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<StackOptions> = {},
): StackOptions {
  const port = (name: string, fallback: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1 || value > 65535)
      throw new StackError(`${name}: '${text}' is not a port`);
    return value;
  };
  return {
    kafkaVersion: env.HUB_KAFKA_VERSION || DEFAULT_KAFKA_VERSION,
    registryVersion: env.HUB_REGISTRY_VERSION || DEFAULT_REGISTRY_VERSION,
    cluster: false,
    cacheDir: env.HUB_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'medfund-hub'),
    stateDir: env.HUB_STACK_DIR || join(tmpdir(), 'medfund-hub-stack'),
    kafkaPort: port('HUB_KAFKA_PORT', 9092),
    registryPort: port('HUB_REGISTRY_PORT', 8081),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    envFile: STACK_ENV_FILE,
    secure: secureFromEnvironment(env.HUB_STACK_SECURE),
    redisPort: port('HUB_REDIS_PORT', 6380),
    redisClusterPort: port('HUB_REDIS_CLUSTER_PORT', 6390),
    log: (line) => process.stderr.write(`stack: ${line}\n`),
    ...overrides,
  };
}

/** HUB_STACK_SECURE: unset or 1 secured (the default), 0 the plain stack. */
function secureFromEnvironment(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '1') return true;
  if (value === '0') return false;
  throw new StackError(`HUB_STACK_SECURE: '${value}' is neither 1 (secured, the default) nor 0 (plain)`);
}

/** The line a plain stack's user sees: nothing about it is protected. */
export const PLAIN_STACK_NOTICE =
  'PLAIN stack (--insecure): no TLS, no credentials, no ACLs; every client may read and write everything';

const stateFile = (options: StackOptions) => join(options.stateDir, 'state.json');

const writeStackState = (options: StackOptions, state: StackState) =>
  writeFileSync(stateFile(options), JSON.stringify(state, null, 2));

export function readStackState(options: StackOptions): StackState | undefined {
  const file = stateFile(options);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackState;
}

/** True when every process the state file names is alive and still ours. */
export function stackIsRunning(state: StackState): boolean {
  return state.processes.every((p) => processIsOurs(p));
}

/**
 * Starts the stack, or reuses it when the state file names a running one. Returns the endpoints
 * and whether this call started anything (so a caller that started it can stop it).
 */
export async function stackUp(options: StackOptions): Promise<{ endpoints: Endpoints; started: boolean }> {
  const existing = readStackState(options);
  if (existing && stackIsRunning(existing)) {
    const secured = existing.endpoints.security?.kafka !== undefined;
    options.log(
      `already running (started ${existing.startedAt}, ${secured ? 'secured' : 'plain'}); reusing it` +
        (secured === (options.secure === true)
          ? ''
          : ` although ${options.secure ? 'a secured' : 'a plain'} one was asked for (stack:down first to change it)`) +
        ((existing.endpoints.redisCluster ?? false) === (options.redisCluster ?? false)
          ? ''
          : `; its Redis is ${existing.endpoints.redisCluster ? 'a cluster' : 'a single server'} (stack:down first to change it)`),
    );
    if (!secured) options.log(PLAIN_STACK_NOTICE);
    writeStackEnv(existing.endpoints, options.envFile, existing.secureEnv);
    return { endpoints: existing.endpoints, started: false };
  }
  if (existing) {
    options.log('a previous stack died or was half stopped; cleaning it up first');
    await stackDown(options);
  }

  const t0 = Date.now();
  const java = requireJava();
  const kafka = fetchKafka(options.cacheDir, options.kafkaVersion, options.log);
  const registry = fetchRegistry(options.cacheDir, options.registryVersion, options.log);
  options.log(`binaries ready in ${elapsed(t0)}`);

  const plan = await planStack(options);
  rmSync(options.stateDir, { recursive: true, force: true });
  // Owner only: a secured stack's broker configuration, state file and secrets hold credentials.
  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
  const marker = `-Dmedfund.hub.stack=${options.stateDir}`;
  const processes: StartedProcess[] = [];
  const secrets: StackSecrets | undefined = plan.secure
    ? generateStackSecrets(
        options.stateDir,
        // Every service of the catalogue unless the caller names them (tests and the bench do not).
        options.services ?? (await import('../../services/catalogue.js')).SERVICE_ROLES,
      )
    : undefined;
  const endpoints = stackEndpoints(options, plan, secrets);
  const secureEnv = secrets ? adminEnvironment(options.stateDir, secrets) : undefined;
  // Recorded after each start: a `down` (or the next `up`) after a crashed `up` stops what it had started.
  const launch = (started: StartedProcess) => {
    processes.push(started);
    writeStackState(options, {
      startedAt: new Date().toISOString(),
      cluster: options.cluster,
      kafkaVersion: kafka.version,
      registryVersion: registry.version,
      processes,
      endpoints,
      ...(secureEnv ? { secureEnv } : {}),
    });
  };

  try {
    formatKafkaStorage(options, plan, java, kafka, secrets);
    for (const [i] of plan.kafkaPorts.entries())
      launch(startKafkaNode(options, i + 1, plan, java, kafka, marker));
    launch(startRegistryProcess(options, java, registry, marker));
    if (plan.redisStart) {
      options.log(
        plan.secure
          ? `starting the stack's own redis-server (TLS, ACL users) on port ${plan.redisStart.port}`
          : `no Redis answers at ${options.redisUrl}; starting redis-server on port ${plan.redisStart.port}`,
      );
      launch(startRedisProcess(options, plan.redisStart, secrets));
    }
    if (plan.redisClusterPorts.length > 0) {
      options.log(
        `starting a Redis Cluster of three primaries on ports ${plan.redisClusterPorts.join(', ')}`,
      );
      for (const port of plan.redisClusterPorts) launch(startRedisClusterNode(options, port));
    }

    options.log('waiting for Kafka, the registry and Redis to be ready');
    await Promise.all([
      waitForKafka(endpoints, plan.nodes, processes, options),
      waitForRegistry(endpoints.schemaRegistryUrl, processes, options),
      plan.redisClusterPorts.length > 0
        ? formRedisCluster(plan.redisClusterPorts, processes, options)
        : waitForRedis(endpoints, processes, options),
    ]);
  } catch (error) {
    options.log('start failed; stopping what was started');
    await stopProcesses(processes, options);
    rmSync(options.stateDir, { recursive: true, force: true });
    throw error;
  }

  writeStackEnv(endpoints, options.envFile, secureEnv);
  if (!plan.secure) options.log(PLAIN_STACK_NOTICE);
  options.log(
    `${plan.secure ? 'secured (SASL_SSL, SCRAM-SHA-512, ACLs; Redis TLS + ACL users), ' : ''}ready in ${elapsed(t0)}: Kafka ${kafka.version} (${plan.nodes} node${plan.nodes > 1 ? 's' : ''}), Apicurio ${registry.version}`,
  );
  return { endpoints, started: true };
}

interface KafkaNodePorts {
  readonly broker: number;
  readonly controller: number;
}

/** What `up` will start, and on which ports; every one of them checked free first. */
interface StackPlan {
  readonly nodes: number;
  readonly kafkaPorts: readonly KafkaNodePorts[];
  readonly secure: boolean;
  readonly redisPort: number;
  /** The redis-server to start; none when a Redis already answers at REDIS_URL (and the stack is not secured). */
  readonly redisStart: RedisStart | undefined;
  /** The nodes of the stack's own Redis Cluster; none unless `redisCluster`. */
  readonly redisClusterPorts: readonly number[];
}

interface RedisStart {
  readonly port: number;
  readonly binary: string;
}

async function planStack(options: StackOptions): Promise<StackPlan> {
  const nodes = options.cluster ? 3 : 1;
  const kafkaPorts = Array.from({ length: nodes }, (_, i) => ({
    broker: options.kafkaPort + 2 * i,
    controller: options.kafkaPort + 2 * i + 1,
  }));
  const secure = options.secure === true;
  if (secure && options.redisCluster) {
    throw new StackError(
      '--redis-cluster starts a plain Redis Cluster (no TLS, no ACL users): add --insecure (HUB_STACK_SECURE=0)',
    );
  }
  const redisPort = options.redisPort ?? 6380;
  const redisClusterPorts = options.redisCluster ? redisClusterPortsOf(options) : [];
  // Fails here, before anything starts, when no redis-server is installed.
  if (options.redisCluster) redisBinary(options.redisUrl);
  const redisStart = options.redisCluster
    ? undefined
    : secure
      ? { port: redisPort, binary: redisBinary(options.redisUrl) }
      : await redisPlan(options.redisUrl);
  await requirePortsFree([
    ...kafkaPorts.flatMap((p) => [p.broker, p.controller]),
    options.registryPort,
    ...(redisStart ? [redisStart.port] : []),
    ...redisClusterPorts.flatMap(withClusterBus),
  ]);
  return { nodes, kafkaPorts, secure, redisPort, redisStart, redisClusterPorts };
}

function stackEndpoints(
  options: StackOptions,
  plan: StackPlan,
  secrets: StackSecrets | undefined,
): Endpoints {
  const plainEndpoints: Endpoints = {
    kafkaBrokers: plan.kafkaPorts.map((p) => `127.0.0.1:${p.broker}`),
    schemaRegistryUrl: `http://127.0.0.1:${options.registryPort}/apis/ccompat/v7`,
    redisUrl: plan.secure
      ? `rediss://${ADMIN_PRINCIPAL}@127.0.0.1:${plan.redisPort}`
      : plan.redisClusterPorts.length > 0
        ? `redis://127.0.0.1:${plan.redisClusterPorts[0]}`
        : options.redisUrl,
    ...(plan.redisClusterPorts.length > 0 ? { redisCluster: true } : {}),
  };
  return secrets ? withAdmin(plainEndpoints, secrets) : plainEndpoints;
}

/** A secured stack's .stack.env additions: the admin's name and the paths of its secrets, never the secrets. */
function adminEnvironment(stateDir: string, secrets: StackSecrets): Record<string, string> {
  return {
    HUB_KAFKA_USERNAME: ADMIN_PRINCIPAL,
    HUB_KAFKA_PASSWORD_FILE: passwordFile(stateDir, ADMIN_PRINCIPAL),
    HUB_KAFKA_CA_FILE: secrets.caFile,
    HUB_REDIS_PASSWORD_FILE: passwordFile(stateDir, ADMIN_PRINCIPAL),
  };
}

const kafkaNodeDir = (options: StackOptions, node: number) => join(options.stateDir, `kafka-${node}`);

/** Writes every node's configuration and formats its storage, all with one cluster id. */
function formatKafkaStorage(
  options: StackOptions,
  plan: StackPlan,
  java: string,
  kafka: FetchedKafka,
  secrets: StackSecrets | undefined,
): void {
  const clusterId = kafkaClusterId();
  const voters = plan.kafkaPorts.map((p, i) => `${i + 1}@127.0.0.1:${p.controller}`).join(',');
  for (const [i, ports] of plan.kafkaPorts.entries()) {
    const dir = kafkaNodeDir(options, i + 1);
    mkdirSync(dir, { recursive: true });
    const props = join(dir, 'server.properties');
    writeFileSync(
      props,
      brokerProperties(i + 1, ports, voters, join(dir, 'data'), plan.nodes) +
        (secrets ? secureBrokerProperties(ports, secrets, ADMIN_PRINCIPAL) : ''),
    );
    writeFileSync(join(dir, 'log4j2.properties'), LOG4J2_CONSOLE);
    const jvm = kafkaJvmArgs(dir, kafka.classpath, plan.nodes);
    const format = spawnSync(
      java,
      [
        ...jvm,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        props,
        ...(secrets ? scramFormatArguments(secrets) : []),
      ],
      {
        encoding: 'utf8',
      },
    );
    if (format.status !== 0)
      // The arguments carry the SCRAM passwords: only the tool's own message is shown.
      throw new StackError(`could not format Kafka storage in ${dir}:\n${format.stderr}`);
  }
}

function startKafkaNode(
  options: StackOptions,
  node: number,
  plan: StackPlan,
  java: string,
  kafka: FetchedKafka,
  marker: string,
): StartedProcess {
  const dir = kafkaNodeDir(options, node);
  const args = [
    ...kafkaJvmArgs(dir, kafka.classpath, plan.nodes),
    marker,
    'kafka.Kafka',
    join(dir, 'server.properties'),
  ];
  // Kept so a fault test can restart this node exactly as it was started.
  writeFileSync(join(dir, 'cmdline.json'), JSON.stringify([java, ...args]));
  return startDetached(`kafka-${node}`, java, args, join(options.stateDir, `kafka-${node}.log`), marker);
}

function startRegistryProcess(
  options: StackOptions,
  java: string,
  registry: FetchedRegistry,
  marker: string,
): StartedProcess {
  const registryArgs = [
    '-Xms64m',
    '-Xmx320m',
    '-XX:+UseSerialGC',
    // The registry is not on the hot path (ids are cached by clients): start fast, stay small.
    '-XX:TieredStopAtLevel=1',
    marker,
    `-Dquarkus.http.port=${options.registryPort}`,
    '-Dquarkus.http.host=127.0.0.1',
    // In-memory H2 (unless registryOnDisk): schemas live exactly as long as this stack's Kafka data does.
    '-Dapicurio.rest.deletion.artifact.enabled=true',
    '-Dapicurio.rest.deletion.artifact-version.enabled=true',
    '-Dapicurio.rest.deletion.group.enabled=true',
    ...(options.registryOnDisk
      ? [`-Dapicurio.datasource.url=jdbc:h2:file:${join(options.stateDir, 'registry-db', 'registry')}`]
      : []),
    '-jar',
    registry.runnerJar,
  ];
  // Kept so a fault test can restart the registry exactly as it was started.
  writeFileSync(join(options.stateDir, 'registry.cmdline.json'), JSON.stringify([java, ...registryArgs]));
  return startDetached(
    'registry',
    java,
    registryArgs,
    join(options.stateDir, 'registry.log'),
    marker,
    options.stateDir,
  );
}

function startRedisProcess(
  options: StackOptions,
  redis: RedisStart,
  secrets: StackSecrets | undefined,
): StartedProcess {
  return startDetached(
    'redis',
    redis.binary,
    [
      ...(secrets ? secureRedisArguments(redis.port, secrets) : ['--port', String(redis.port)]),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      options.stateDir,
    ],
    join(options.stateDir, 'redis.log'),
    // The marker rides along as a harmless config name so `down` can recognise this process.
    'redis-server',
  );
}

/** The three nodes' ports of the stack's Redis Cluster: `redisClusterPort` and the two after it. */
function redisClusterPortsOf(options: StackOptions): number[] {
  const first = options.redisClusterPort ?? 6390;
  return [first, first + 1, first + 2];
}

/** A cluster node also listens on its port + 10000 (the cluster bus). */
const withClusterBus = (port: number): number[] => [port, port + 10_000];

function startRedisClusterNode(options: StackOptions, port: number): StartedProcess {
  const dir = join(options.stateDir, `redis-cluster-${port}`);
  mkdirSync(dir, { recursive: true });
  return startDetached(
    `redis-${port}`,
    redisBinary(options.redisUrl),
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--cluster-node-timeout',
      '5000',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    join(options.stateDir, `redis-${port}.log`),
    'redis-server',
  );
}

/**
 * A Redis Cluster of three primaries on its own, beside a stack whose Redis is a single server (a test
 * of the cluster layout): started in `options.stateDir` on `redisClusterPort` and the two ports after it.
 */
export async function startRedisCluster(
  options: StackOptions,
): Promise<{ readonly url: string; stop(): Promise<void> }> {
  const ports = redisClusterPortsOf(options);
  await requirePortsFree(ports.flatMap(withClusterBus));
  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
  const processes = ports.map((port) => startRedisClusterNode(options, port));
  try {
    await formRedisCluster(ports, processes, options);
  } catch (error) {
    await stopProcesses(processes, options);
    throw error;
  }
  return { url: `redis://127.0.0.1:${ports[0]}`, stop: () => stopProcesses(processes, options) };
}

export const REDIS_CLUSTER_SLOTS = 16_384;

/** The slots of node `index` of `nodes`: 16384 split into contiguous ranges, as redis-cli --cluster create does. */
export function clusterSlotRange(index: number, nodes: number): readonly [number, number] {
  const per = REDIS_CLUSTER_SLOTS / nodes;
  return [Math.round(index * per), Math.round((index + 1) * per) - 1];
}

/**
 * Makes the started nodes one cluster: each takes its range of the slots, the first meets the others,
 * and it is ready when every node says `cluster_state:ok`.
 */
async function formRedisCluster(
  ports: readonly number[],
  processes: StartedProcess[],
  options: StackOptions,
): Promise<void> {
  const nodes = processes.filter((p) => p.name.startsWith('redis-'));
  const urls = ports.map((port) => `redis://127.0.0.1:${port}`);
  await until('Redis Cluster nodes', 30_000, nodes, async () =>
    (await Promise.all(urls.map((url) => redisAnswers(url)))).every(Boolean),
  );
  const clients = ports.map((port) => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 }));
  try {
    for (const [i, client] of clients.entries()) {
      const [first, last] = clusterSlotRange(i, ports.length);
      const slots = Array.from({ length: last - first + 1 }, (_, k) => first + k);
      await client.call('CLUSTER', 'ADDSLOTS', ...slots.map(String));
    }
    for (const port of ports.slice(1)) await clients[0]?.call('CLUSTER', 'MEET', '127.0.0.1', String(port));
    await until('Redis Cluster', 60_000, nodes, async () => {
      const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO') as Promise<string>));
      return infos.every(
        (info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${ports.length}`),
      );
    });
  } finally {
    for (const client of clients) client.disconnect();
  }
  options.log(`Redis Cluster ready: ${ports.length} primaries, ${urls[0]} (REDIS_CLUSTER=1)`);
}

/** Stops exactly what `up` recorded, removes its data and the env file. */
export async function stackDown(options: StackOptions): Promise<boolean> {
  const state = readStackState(options);
  if (!state) return false;
  await stopProcesses(state.processes, options);
  rmSync(options.stateDir, { recursive: true, force: true });
  if (existsSync(options.envFile)) rmSync(options.envFile);
  return true;
}

/** Stops and starts one Kafka node of a running stack, for fault tests. Keeps its data. */
export async function restartKafkaNode(options: StackOptions, node: number, downMs: number): Promise<void> {
  const state = readStackState(options);
  const index = state?.processes.findIndex((p) => p.name === `kafka-${node}`) ?? -1;
  const proc = state?.processes[index];
  if (!state || !proc) throw new StackError(`no running kafka-${node} in ${options.stateDir}`);
  await stopProcesses([proc], options);
  await sleep(downMs);
  startStackProcess(options, `kafka-${node}`);
}

/** Kills one process of a running stack (`kafka-2`, `registry`) with SIGKILL, as a crash would. Keeps its data. */
export async function killStackProcess(options: StackOptions, name: string): Promise<void> {
  const proc = readStackState(options)?.processes.find((p) => p.name === name);
  if (!proc || !processIsOurs(proc)) throw new StackError(`no running ${name} in ${options.stateDir}`);
  signal(proc.pid, 'SIGKILL');
  while (processIsOurs(proc)) await sleep(50);
}

/** Starts a stopped or killed process of the stack again, exactly as it was started; returns at once. */
export function startStackProcess(options: StackOptions, name: string): void {
  const state = readStackState(options);
  const index = state?.processes.findIndex((p) => p.name === name) ?? -1;
  const proc = state?.processes[index];
  if (!state || !proc) throw new StackError(`no ${name} in ${options.stateDir}`);
  if (processIsOurs(proc)) throw new StackError(`${name} is still running (pid ${proc.pid})`);
  const file = name.startsWith('kafka-')
    ? join(options.stateDir, name, 'cmdline.json')
    : join(options.stateDir, `${name}.cmdline.json`);
  const [command, ...args] = JSON.parse(readFileSync(file, 'utf8')) as string[];
  if (!command) throw new StackError(`${name}: no recorded command line`);
  const cwd = name === 'registry' ? options.stateDir : undefined;
  state.processes[index] = startDetached(name, command, args, proc.logFile, proc.marker, cwd);
  writeStackState(options, state);
}

/** Stops the registry (SIGTERM), starts it again and waits until it answers. */
export async function restartRegistry(options: StackOptions): Promise<void> {
  const state = readStackState(options);
  const proc = state?.processes.find((p) => p.name === 'registry');
  if (!state || !proc) throw new StackError(`no registry in ${options.stateDir}`);
  await stopProcesses([proc], options);
  startStackProcess(options, 'registry');
  const started = readStackState(options)?.processes.filter((p) => p.name === 'registry') ?? [];
  await waitForRegistry(state.endpoints.schemaRegistryUrl, started, options);
}

// ---- processes ----

function startDetached(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  marker: string,
  cwd?: string,
): StartedProcess {
  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(command, args, { detached: true, stdio: ['ignore', out, out], cwd });
  if (child.pid === undefined) throw new StackError(`could not start ${name} (${command})`);
  child.unref();
  return { name, pid: child.pid, marker, logFile };
}

function processIsOurs(p: StartedProcess): boolean {
  try {
    const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8');
    return cmdline.includes(p.marker);
  } catch {
    return false;
  }
}

async function stopProcesses(processes: readonly StartedProcess[], options: StackOptions): Promise<void> {
  const ours = processes.filter(processIsOurs);
  for (const p of ours) signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (ours.some(processIsOurs) && Date.now() < deadline) await sleep(200);
  for (const p of ours.filter(processIsOurs)) {
    options.log(`${p.name} (pid ${p.pid}) did not stop in 20 s; killing it`);
    signal(p.pid, 'SIGKILL');
  }
  for (const p of ours) options.log(`stopped ${p.name} (pid ${p.pid})`);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    // Each was started detached as its own process group: signal the group.
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

function requireJava(): string {
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const probe = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (probe.error)
    throw new StackError(`Java 17 or newer is needed to run Kafka and the registry; '${java}' was not found`);
  const match = /version "(\d+)/.exec(probe.stderr);
  const major = match?.[1] ? Number(match[1]) : 0;
  if (major < 17)
    throw new StackError(`Java 17 or newer is needed; '${java}' is version ${major || 'unknown'}`);
  return java;
}

async function requirePortsFree(ports: number[]): Promise<void> {
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (!free) {
      throw new StackError(
        `port ${port} on 127.0.0.1 is already in use. Stop what holds it (\`ss -ltnp 'sport = :${port}'\`) ` +
          'or choose other ports with HUB_KAFKA_PORT / HUB_REGISTRY_PORT.',
      );
    }
  }
}

// ---- Kafka ----

/**
 * A KRaft cluster id made as Kafka's own Uuid.randomUuid makes one: 16 random bytes as a version-4
 * UUID, printed base64url without padding (22 characters), drawn again while it starts with '-',
 * which kafka-storage would read as an option ("argument --cluster-id/-t: expected one argument"):
 * 1 random id in 64. Kafka's reserved ids (all zero, and 0…01) cannot occur: the version bits are set.
 */
export function kafkaClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const bytes = Buffer.from(random(16));
    bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40; // version 4
    bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 2 (Leach-Salz)
    const id = bytes.toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function brokerProperties(
  nodeId: number,
  ports: { broker: number; controller: number },
  voters: string,
  dataDir: string,
  nodes: number,
): string {
  const replication = Math.min(3, nodes);
  return `# Generated by deploy/local/launcher.ts
process.roles=broker,controller
node.id=${nodeId}
controller.quorum.voters=${voters}
listeners=PLAINTEXT://127.0.0.1:${ports.broker},CONTROLLER://127.0.0.1:${ports.controller}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports.broker}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=${dataDir}
num.partitions=3
default.replication.factor=${replication}
min.insync.replicas=${nodes > 1 ? 2 : 1}
# Internal topics must fit the node count, or groups and transactions wait for them forever.
offsets.topic.replication.factor=${replication}
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=${replication}
transaction.state.log.min.isr=${nodes > 1 ? 2 : 1}
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# A test machine: small segments, quick shutdown.
log.segment.bytes=67108864
controlled.shutdown.enable=true
`;
}

const LOG4J2_CONSOLE = `status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = console
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
`;

function kafkaJvmArgs(dir: string, classpath: string, nodes: number): string[] {
  const heap = nodes > 1 ? '384m' : '512m';
  return [
    '-Xms128m',
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
    '-cp',
    classpath,
  ];
}

/** Ready means: every broker registered, and a transaction and a group offset round trip work. */
async function waitForKafka(
  endpoints: Endpoints,
  nodes: number,
  processes: StartedProcess[],
  options: StackOptions,
): Promise<void> {
  const brokers = endpoints.kafkaBrokers;
  const kafka = new Kafka({
    clientId: 'stack-launcher',
    brokers,
    ...kafkajsSecurity(endpoints.security?.kafka),
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
  await until(
    'Kafka',
    120_000,
    processes.filter((p) => p.name.startsWith('kafka-')),
    async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length === nodes;
      } finally {
        await admin.disconnect();
      }
    },
  );
  // Creating the internal topics takes a few seconds; do it here so the first real user does not wait.
  await until(
    'Kafka transactions',
    120_000,
    processes.filter((p) => p.name.startsWith('kafka-')),
    async () => {
      const producer = kafka.producer({ transactionalId: 'stack-launcher-readiness', idempotent: true });
      const admin = kafka.admin();
      try {
        await producer.connect();
        await admin.connect();
        await admin.fetchOffsets({ groupId: 'stack-launcher-readiness', topics: [] });
        return true;
      } finally {
        await producer.disconnect();
        await admin.disconnect();
      }
    },
  );
  options.log(`Kafka ready: ${brokers.join(',')}`);
}

async function waitForRegistry(
  url: string,
  processes: StartedProcess[],
  options: StackOptions,
): Promise<void> {
  await until(
    'schema registry',
    120_000,
    processes.filter((p) => p.name === 'registry'),
    async () => (await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) })).ok,
  );
  options.log(`registry ready: ${url}`);
}

async function waitForRedis(
  endpoints: Endpoints,
  processes: StartedProcess[],
  options: StackOptions,
): Promise<void> {
  await until(
    'Redis',
    30_000,
    processes.filter((p) => p.name === 'redis'),
    () => redisAnswers(endpoints.redisUrl, endpoints),
  );
  options.log(`Redis ready: ${endpoints.redisUrl}`);
}

/** The endpoints as the admin principal sees them (the launcher's own checks, the CLI, the tests' setup). */
function withAdmin(endpoints: Endpoints, secrets: StackSecrets): Endpoints {
  const password = secrets.passwords[ADMIN_PRINCIPAL] ?? '';
  const ca = readFileSync(secrets.caFile, 'utf8');
  return {
    ...endpoints,
    security: {
      kafka: { username: ADMIN_PRINCIPAL, password, ca },
      redis: { username: ADMIN_PRINCIPAL, password, ca },
    },
  };
}

/** Polls `check` until it returns true; fails at once when a process it waits for has died. */
async function until(
  what: string,
  timeoutMs: number,
  watched: StartedProcess[],
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    const dead = watched.find((p) => !processIsOurs(p));
    if (dead) throw new StackError(`${dead.name} exited while starting; its log:\n${tail(dead.logFile, 15)}`);
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(250);
  }
  const logs = watched.map((p) => `--- ${p.logFile}\n${tail(p.logFile, 10)}`).join('\n');
  throw new StackError(
    `${what} was not ready after ${timeoutMs / 1000} s (${lastError || 'no answer'})\n${logs}`,
  );
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---- Redis ----

export async function redisAnswers(url: string, endpoints?: Endpoints): Promise<boolean> {
  const redis = new Redis(redisConnectUrl(url, endpoints?.security?.redis), {
    ...ioredisSecurity(endpoints?.security?.redis),
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Undefined when a Redis already answers; else how to start one for a loopback URL. */
async function redisPlan(url: string): Promise<{ port: number; binary: string } | undefined> {
  if (await redisAnswers(url)) return undefined;
  const parsed = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
    throw new StackError(
      `no Redis answers at ${url}, and it is not on this machine, so the stack cannot start one`,
    );
  }
  return { port: Number(parsed.port || 6379), binary: redisBinary(url) };
}

function redisBinary(url: string): string {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const binary = which.stdout.trim();
  if (which.status !== 0 || binary === '') {
    throw new StackError(
      `no Redis answers at ${url} and redis-server is not installed (apt-get install redis-server), or set REDIS_URL`,
    );
  }
  return binary;
}

function elapsed(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}
