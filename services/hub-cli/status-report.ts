import { chinaDateOf } from '../../shared/policy/dates.js';
import type { ReconciliationKind, ReconciliationResult } from '../../shared/records.js';

/**
 * `hub status`'s pure half: what the operator is shown, from what was read (status.ts reads it).
 * Unit-tested in test/unit/status-report.unit.spec.ts.
 */

export type AgeBucket = '0-1' | '2-7' | '8-30' | '>30';

/** The age bucket of an open discrepancy, in whole days: 0-1, 2-7, 8-30, over 30. */
export function ageBucket(days: number): AgeBucket {
  const whole = Math.floor(days);
  if (whole <= 1) return '0-1';
  if (whole <= 7) return '2-7';
  if (whole <= 30) return '8-30';
  return '>30';
}

/** A duration in words an operator reads at a glance: 45 s, 12 min, 3 h 20 min, 5 d 4 h. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

export interface InstanceHealth {
  readonly instance: string;
  readonly address: string;
  /** /healthz answered 200. */
  readonly alive: boolean;
  /** /readyz answered 200. */
  readonly ready: boolean;
  /** The announcement was not renewed in time: killed or hung. */
  readonly stale: boolean;
}

export interface ServiceStatus {
  readonly service: string;
  readonly topic: string;
  readonly topicExists: boolean;
  readonly end: number;
  readonly lag: number;
  /** Age of the oldest record not yet committed by the group, in seconds; null when none is behind. */
  readonly lagSeconds: number | null;
  /** A text instead when the announcements could not be read (Redis away). */
  readonly instances: readonly InstanceHealth[] | string;
  /** Dead letters in the service's dead-letter topic, by error code. */
  readonly deadLetters: Readonly<Record<string, number>>;
}

export interface Discrepancy {
  readonly kind: ReconciliationKind;
  readonly region: string;
  readonly period: string;
  readonly openedAt: Date;
  readonly ageDays: number;
  readonly bucket: AgeBucket;
  /** How many items are in DISCREPANCY now. */
  readonly open: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The oldest item whose latest result is still DISCREPANCY, aged from its opening to `now`. Results
 * come in topic order per item (one item is always one partition), so the last one of an item is its state.
 */
export function oldestOpenDiscrepancy(
  results: readonly ReconciliationResult[],
  now: Date,
): Discrepancy | null {
  const latest = new Map<string, ReconciliationResult>();
  for (const r of results) latest.set(r.itemId, r);
  const open = [...latest.values()].filter((r) => r.status === 'DISCREPANCY');
  if (open.length === 0) return null;
  const oldest = open.reduce((a, b) => (b.openedAt.getTime() < a.openedAt.getTime() ? b : a));
  const ageDays = Math.max(0, Math.floor((now.getTime() - oldest.openedAt.getTime()) / DAY_MS));
  return {
    kind: oldest.kind,
    region: oldest.regionCode,
    period: oldest.period,
    openedAt: oldest.openedAt,
    ageDays,
    bucket: ageBucket(ageDays),
    open: open.length,
  };
}

/** A service's instances in one phrase: "2 of 2 ready", "none announced", with the odd ones named. */
export function describeInstances(instances: readonly InstanceHealth[] | string): string {
  if (typeof instances === 'string') return `unknown: ${instances}`;
  if (instances.length === 0) return 'none announced (stopped?)';
  const ready = instances.filter((i) => i.alive && i.ready).length;
  const odd = instances
    .filter((i) => !(i.alive && i.ready))
    .map(
      (i) =>
        `${i.instance} at ${i.address} ${i.alive ? 'alive, not ready' : i.stale ? 'gone (announcement expired)' : 'not answering'}`,
    );
  return [`${ready} of ${instances.length} ready`, ...odd].join('; ');
}

export function describeDeadLetters(byCode: Readonly<Record<string, number>>): string {
  const entries = Object.entries(byCode).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  if (entries.length === 0) return 'none';
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return `${total}: ${entries.map(([code, n]) => `${code} ${n}`).join(', ')}`;
}

/**
 * What makes `hub status` exit 1: a service whose input topic is missing, or with no instance alive
 * and ready (none announced, all gone, or Redis could not say). Lag, dead letters and discrepancies
 * are shown, not judged: the alert rules (deploy/prometheus/hub-alerts.yml) judge those over time.
 */
export function statusFindings(services: readonly ServiceStatus[]): string[] {
  const findings: string[] = [];
  for (const s of services) {
    if (!s.topicExists) findings.push(`${s.service}: no input topic`);
    else if (typeof s.instances === 'string') findings.push(`${s.service}: instances unknown`);
    else if (!s.instances.some((i) => i.alive && i.ready && !i.stale))
      findings.push(`${s.service}: no instance ready`);
  }
  return findings;
}

/** The text `hub status` prints. */
export function formatStatus(
  namespace: string,
  services: readonly ServiceStatus[],
  discrepancy: Discrepancy | null,
): string {
  const lines = [`namespace ${namespace}`];
  for (const s of services) {
    lines.push(`${s.service} (input ${s.topic})`);
    if (!s.topicExists) {
      lines.push('  lag           no topic');
    } else {
      const age = s.lagSeconds === null ? '' : `, oldest unprocessed ${formatAge(s.lagSeconds)} old`;
      lines.push(`  lag           ${s.lag} of ${s.end} messages${age}`);
    }
    lines.push(`  instances     ${describeInstances(s.instances)}`);
    lines.push(`  dead letters  ${describeDeadLetters(s.deadLetters)}`);
  }
  lines.push(
    discrepancy === null
      ? 'reconciliation: no open discrepancy'
      : `reconciliation: ${discrepancy.open} open discrepanc${discrepancy.open === 1 ? 'y' : 'ies'}; oldest ${discrepancy.kind} ${discrepancy.region} ${discrepancy.period}, opened ${chinaDateOf(discrepancy.openedAt)}, ${discrepancy.ageDays} days (${discrepancy.bucket} days)`,
  );
  if (services.some((s) => !s.topicExists)) {
    lines.push(
      `some topics do not exist in namespace ${namespace}: run \`npx hub topics create --namespace ${namespace}\``,
    );
  }
  const findings = statusFindings(services);
  lines.push(
    findings.length === 0 ? 'every service has a ready instance' : `needs attention: ${findings.join('; ')}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Series that `hub status --format prometheus` writes, for node_exporter's textfile collector. */
export const STATUS_METRICS = {
  readyInstances: 'hub_status_ready_instances',
  openDiscrepancies: 'hub_reconciliation_open_discrepancies',
  oldestOpenDays: 'hub_reconciliation_oldest_open_discrepancy_days',
} as const;

/**
 * The status as Prometheus text exposition, for a cron job writing node_exporter's textfile directory
 * (`npx hub status --format prometheus > $DIR/hub.prom.tmp && mv …`): the oldest open discrepancy
 * lives in the reconciler's item state, not in any one process, so no service can serve it.
 */
export function formatStatusMetrics(
  namespace: string,
  services: readonly ServiceStatus[],
  discrepancy: Discrepancy | null,
): string {
  const ns = `namespace="${namespace}"`;
  const lines = [
    `# HELP ${STATUS_METRICS.readyInstances} Instances of the service alive and ready, as hub status reads them.`,
    `# TYPE ${STATUS_METRICS.readyInstances} gauge`,
    ...services.map((s) => {
      const ready =
        typeof s.instances === 'string'
          ? 0
          : s.instances.filter((i) => i.alive && i.ready && !i.stale).length;
      return `${STATUS_METRICS.readyInstances}{${ns},service="${s.service}"} ${ready}`;
    }),
    `# HELP ${STATUS_METRICS.openDiscrepancies} Reconciliation items whose latest result is DISCREPANCY.`,
    `# TYPE ${STATUS_METRICS.openDiscrepancies} gauge`,
    `${STATUS_METRICS.openDiscrepancies}{${ns}} ${discrepancy?.open ?? 0}`,
    `# HELP ${STATUS_METRICS.oldestOpenDays} Whole days since the oldest open discrepancy opened (0 when none is open).`,
    `# TYPE ${STATUS_METRICS.oldestOpenDays} gauge`,
    discrepancy === null
      ? `${STATUS_METRICS.oldestOpenDays}{${ns}} 0`
      : `${STATUS_METRICS.oldestOpenDays}{${ns},kind="${discrepancy.kind}",region="${discrepancy.region}",bucket="${discrepancy.bucket}"} ${discrepancy.ageDays}`,
  ];
  return `${lines.join('\n')}\n`;
}
