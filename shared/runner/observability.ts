import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The runner's Prometheus metrics. Labels never carry personal data: service, topic, partition, code. */
export class RunnerMetrics {
  readonly registry = new Registry();
  readonly messagesIn: Counter<'topic'>;
  readonly messagesOut: Counter<'topic'>;
  readonly deadLettered: Counter<'code'>;
  readonly replayed: Counter;
  readonly retries: Counter<'stage'>;
  readonly brokerRetries: Counter<'answer'>;
  readonly batchSeconds: Histogram;
  readonly lag: Gauge<'topic' | 'partition'>;
  readonly lagSeconds: Gauge<'topic' | 'partition'>;
  readonly ready: Gauge;
  private readyProbe: () => boolean = () => false;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry, prefix: 'hub_process_' });
    const registers = [this.registry];
    this.messagesIn = new Counter({
      name: 'hub_messages_in_total',
      help: 'Input messages consumed and settled (applied, refused or recognised as duplicates)',
      labelNames: ['topic'],
      registers,
    });
    this.messagesOut = new Counter({
      name: 'hub_messages_out_total',
      help: 'Records committed to output topics',
      labelNames: ['topic'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'hub_dead_letters_total',
      help: 'Input messages sent to the dead-letter topic, by error code',
      labelNames: ['code'],
      registers,
    });
    this.replayed = new Counter({
      name: 'hub_state_replayed_total',
      help: 'Committed input records replayed into the state after it fell behind the committed offset',
      registers,
    });
    this.retries = new Counter({
      name: 'hub_retries_total',
      help: 'Batches retried after a transient fault, by the stage that failed',
      labelNames: ['stage'],
      registers,
    });
    this.brokerRetries = new Counter({
      name: 'hub_kafka_expected_retries_total',
      help: 'Expected broker answers kafkajs retried by itself (a coordinator loading or moving, a rebalance, concurrent transactions, a broker away), by answer',
      labelNames: ['answer'],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'hub_batch_duration_seconds',
      help: 'Time from fetching a batch chunk to committing its transaction',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.lag = new Gauge({
      name: 'hub_consumer_lag',
      help: 'Messages behind the partition end after the last batch',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: 'hub_consumer_lag_seconds',
      help: "Estimated age of the oldest unprocessed record after the last batch: the age of the batch's last record while messages remain behind it, else 0 (hub status reads the exact age)",
      labelNames: ['topic', 'partition'],
      registers,
    });
    const probe = () => this.readyProbe();
    this.ready = new Gauge({
      name: 'hub_ready',
      help: '1 while the instance is consuming (what /readyz says), else 0',
      registers,
      collect() {
        this.set(probe() ? 1 : 0);
      },
    });
  }

  /** What hub_ready reports: the runner's own readiness. */
  reportReadiness(isReady: () => boolean): void {
    this.readyProbe = isReady;
  }
}

/**
 * /healthz: the process is alive. /readyz: it is consuming (joined its group, producer and Redis up).
 * /metrics: Prometheus text format.
 */
/** Where the health, metrics and disclosure servers listen: HUB_BIND_ADDRESS, default loopback only. */
export const bindAddress = (env: NodeJS.ProcessEnv = process.env): string =>
  env.HUB_BIND_ADDRESS || '127.0.0.1';

export function serveHealth(
  port: number,
  metrics: RunnerMetrics,
  isReady: () => boolean,
  host = bindAddress(),
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = isReady();
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ready\n' : 'not ready\n');
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: Error) => res.writeHead(500).end(error.message),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
