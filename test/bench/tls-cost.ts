import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { stackDown, stackOptionsFromEnvironment, stackUp } from '../../deploy/local/launcher.js';
import { readPassword } from '../../deploy/local/secure.js';
import { servicesFor } from '../../services/catalogue.js';
import { applyAcls } from '../../services/hub-cli/acl.js';
import { kafkaAcls } from '../../shared/acl.js';
import { type Endpoints, hubConfig } from '../../shared/config.js';
import { kafkajsSecurity } from '../../shared/security.js';
import { topicsFor } from '../../shared/topics.js';

/**
 * `npm run bench:tls [-- --events 50000]`: what SASL_SSL + SCRAM-SHA-512 with ACLs costs against the
 * plaintext stack, in one run: the same local stack is started insecure, measured, stopped, started
 * secured, measured, stopped (HUB_KAFKA_PORT, HUB_REGISTRY_PORT, HUB_REDIS_PORT, HUB_STACK_DIR apply;
 * a stack already running there is refused, so nobody's stack is stopped). Measured per stack:
 * connect (admin connect + metadata), produce (accounting's principal, acks=all, idempotent, batches of
 * 500 records of 300 bytes to the ledger topic) and consume (the reconciler's principal and group,
 * eachBatch from the beginning).
 */
const events = Number(argument('--events') ?? 50_000);
const namespace = `bench-tls-${Date.now().toString(36)}`;
const TOPICS = topicsFor(hubConfig({ namespace }));
const SERVICES = servicesFor(TOPICS);
const ledger = TOPICS.ledger.name;

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Row {
  readonly stack: string;
  readonly connectMs: number;
  readonly producePerSecond: number;
  readonly consumePerSecond: number;
}

async function measure(label: string, secure: boolean): Promise<Row> {
  const options = stackOptionsFromEnvironment(process.env, {
    secure,
    services: SERVICES,
    log: (line) => process.stderr.write(`[${label}] ${line}\n`),
  });
  const { endpoints, started } = await stackUp(options);
  if (!started)
    throw new Error(`a stack is already running in ${options.stateDir}: stop it first (npm run stack:down)`);
  try {
    const as = (principal: string): Kafka =>
      new Kafka({
        clientId: `bench-tls-${principal}`,
        brokers: endpoints.kafkaBrokers,
        logLevel: logLevel.NOTHING,
        ...(secure
          ? kafkajsSecurity({
              ...credentials(endpoints),
              username: principal,
              password: readPassword(options.stateDir, principal),
            })
          : {}),
      });
    const admin = as('admin').admin();
    const t0 = performance.now();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [] });
    const connectMs = performance.now() - t0;
    await admin.createTopics({ topics: [{ topic: ledger, numPartitions: 6 }], waitForLeaders: true });
    if (secure) {
      await applyAcls(
        admin,
        kafkaAcls({
          services: SERVICES,
          disclosureTopic: TOPICS.disclosure,
          namespace,
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 2000)); // the authorizer learns the ACLs
    }
    await admin.disconnect();

    const value = randomBytes(300);
    const producer = as('accounting').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const p0 = performance.now();
    for (let sent = 0; sent < events; sent += 500) {
      const n = Math.min(500, events - sent);
      await producer.send({
        topic: ledger,
        acks: -1,
        messages: Array.from({ length: n }, (_, i) => ({ key: String(sent + i), value })),
      });
    }
    const producePerSecond = events / ((performance.now() - p0) / 1000);
    await producer.disconnect();

    const consumer = as('reconciler').consumer({ groupId: `${namespace}.reconciler` });
    await consumer.connect();
    await consumer.subscribe({ topic: ledger, fromBeginning: true });
    let seen = 0;
    let c0 = 0;
    const consumed = new Promise<number>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          if (c0 === 0) c0 = performance.now();
          seen += batch.messages.length;
          if (seen >= events) resolve(performance.now());
        },
      });
    });
    const c1 = await consumed;
    await consumer.disconnect();
    const consumePerSecond = events / ((c1 - c0) / 1000);
    return { stack: label, connectMs, producePerSecond, consumePerSecond };
  } finally {
    await stackDown(options);
  }
}

function credentials(endpoints: Endpoints) {
  const kafka = endpoints.security?.kafka;
  if (!kafka) throw new Error('the secured stack gave no CA');
  return { ca: kafka.ca };
}

const insecure = await measure('insecure', false);
const secured = await measure('secured', true);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
process.stdout.write(
  `\n| measure (${events} records of 300 B, one broker) | insecure (PLAINTEXT) | secured (SASL_SSL, SCRAM-SHA-512, ACLs) | secured / insecure |\n|---|---|---|---|\n` +
    `| admin connect + metadata | ${insecure.connectMs.toFixed(0)} ms | ${secured.connectMs.toFixed(0)} ms | ${(secured.connectMs / insecure.connectMs).toFixed(2)} |\n` +
    `| produce, acks=all, idempotent | ${fmt(insecure.producePerSecond)} /s | ${fmt(secured.producePerSecond)} /s | ${(secured.producePerSecond / insecure.producePerSecond).toFixed(2)} |\n` +
    `| consume, eachBatch | ${fmt(insecure.consumePerSecond)} /s | ${fmt(secured.consumePerSecond)} /s | ${(secured.consumePerSecond / insecure.consumePerSecond).toFixed(2)} |\n`,
);
