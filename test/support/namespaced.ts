import { type ChildProcess, spawn } from 'node:child_process';
import type { Admin, Kafka } from 'kafkajs';
import { servicesFor } from '../../services/catalogue.js';
import { createTopics as createHubTopics } from '../../services/hub-cli/topics.js';
import { type HubConfig, REPO_ROOT } from '../../shared/config.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import type { Service } from '../../shared/runner/service.js';
import { allTopics, type TopicId, type TopicSpec, type Topics, topicsFor } from '../../shared/topics.js';
import { applyNamespaceAcls, serviceEnvironment, stack } from './stack.js';

/**
 * A hub in a namespace of its own (its config's), run as separate processes the way it is deployed:
 * services started with HUB_NAMESPACE. A test file can run several, each with a config of its own.
 */
export class NamespacedHub {
  readonly namespace: string;
  readonly catalogue: Topics;
  readonly topics: readonly TopicSpec[];
  readonly codec: TopicCodec;
  private readonly services: readonly Service<unknown>[];
  private readonly children = new Map<string, ChildProcess>();
  readonly stderr = new Map<string, string>();

  constructor(
    private readonly config: HubConfig,
    private readonly kafka: Kafka,
  ) {
    this.namespace = config.namespace;
    this.catalogue = topicsFor(config);
    this.topics = allTopics(this.catalogue);
    this.services = servicesFor(this.catalogue);
    this.codec = new TopicCodec(createRegistry(stack()), stack().schemaRegistryUrl);
  }

  /** This hub's topic with the id `spec` has in `topics` (another hub's catalogue). */
  topicAs(spec: TopicSpec, topics: Topics): TopicSpec {
    const id = (Object.keys(topics) as TopicId[]).find((key) => topics[key] === spec);
    if (id === undefined) throw new Error(`${spec.name} is not a topic of that catalogue`);
    return this.catalogue[id];
  }

  /** Its topics, their schemas and (on a secured stack) its ACLs; `admin` is the test's admin client. */
  async create(admin: Admin): Promise<void> {
    await createHubTopics(admin, this.topics, stack().kafkaBrokers.length);
    await applyNamespaceAcls(admin, this.config);
    await this.codec.prepare(this.topics);
  }

  /** Starts a service as its own process, under its own principal on a secured stack. */
  start(service: string, env: Record<string, string> = {}): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', `services/${service}/main.ts`], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...serviceEnvironment(service),
        HUB_NAMESPACE: this.namespace,
        HUB_INSTANCE_ID: `${service}-test`,
        HUB_SESSION_TIMEOUT_MS: '6000',
        LOG_LEVEL: 'error',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.stderr.set(service, '');
    child.stderr?.on('data', (chunk: Buffer) =>
      this.stderr.set(service, (this.stderr.get(service) ?? '') + chunk.toString()),
    );
    this.children.set(service, child);
    return child;
  }

  /** Stops a service with SIGTERM (it finishes the chunk in hand) and waits for it to exit. */
  async stop(service: string): Promise<number | null> {
    const child = this.children.get(service);
    if (child === undefined) return null;
    this.children.delete(service);
    if (child.exitCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    return exited;
  }

  /** Resolves with the exit code once the service exits by itself. */
  exited(service: string): Promise<number | null> {
    const child = this.children.get(service);
    if (child === undefined || child.exitCode !== null) return Promise.resolve(child?.exitCode ?? null);
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  signal(service: string, signal: NodeJS.Signals): void {
    this.children.get(service)?.kill(signal);
  }

  async stopAll(): Promise<void> {
    for (const service of [...this.children.keys()]) await this.stop(service);
  }

  /** Waits until this hub's services of these names have committed the end of their inputs. */
  async caughtUp(named: ReadonlyArray<Pick<Service<unknown>, 'name'>>, timeoutMs = 180_000): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let behind: string | undefined;
        for (const service of this.services.filter((s) => named.some((n) => n.name === s.name))) {
          const input = service.input.name;
          const ends = await admin.fetchTopicOffsets(input);
          const [committed] = await admin.fetchOffsets({
            groupId: `${this.namespace}.${service.name}`,
            topics: [input],
          });
          for (const end of ends) {
            const done = Number(
              committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1,
            );
            if (Number(end.high) > Math.max(done, 0)) behind = `${service.name} partition ${end.partition}`;
          }
        }
        if (behind === undefined) return;
        if (Date.now() > deadline) throw new Error(`${this.namespace}: ${behind} did not catch up`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await admin.disconnect();
    }
  }
}
