import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATUS_METRICS } from '../../../services/hub-cli/status-report.js';
import { REPO_ROOT } from '../../../shared/config.js';
import { RunnerMetrics } from '../../../shared/runner/observability.js';

/**
 * The Grafana dashboard and the alert rules (issue 12, item 4) name only metrics the services serve.
 * `promtool check rules` checks the rules' syntax in CI (.ci/run).
 */

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
// A histogram's series end in _bucket, _sum or _count.
const metricNames = (text: string) =>
  new Set([...text.matchAll(/\bhub_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));

describe('monitoring files', () => {
  const served = new RunnerMetrics('premium-ingest');
  // What the services serve, and what `hub status --format prometheus` writes for the textfile collector.
  const known = new Set([
    ...served.registry.getMetricsAsArray().map((m) => m.name),
    ...Object.values(STATUS_METRICS),
  ]);

  it.each(['deploy/grafana/hub-dashboard.json', 'deploy/prometheus/hub-alerts.yml'])(
    '%s uses only metrics the services or hub status serve',
    (path) => {
      const names = [...metricNames(read(path))];
      expect(names.length).toBeGreaterThan(3);
      expect(names.filter((n) => !known.has(n))).toEqual([]);
    },
  );

  it('the dashboard is JSON with a panel per signal of hub status', () => {
    const dashboard = JSON.parse(read('deploy/grafana/hub-dashboard.json')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const name of [
      'hub_consumer_lag',
      'hub_consumer_lag_seconds',
      'hub_ready',
      'hub_dead_letters_total',
    ])
      expect(exprs).toContain(`${name}{`);
  });

  it('hub_ready says what the readiness probe says', async () => {
    let ready = false;
    served.reportReadiness(() => ready);
    expect(await served.registry.getSingleMetricAsString('hub_ready')).toMatch(
      /^hub_ready\{service="premium-ingest"\} 0$/m,
    );
    ready = true;
    expect(await served.registry.getSingleMetricAsString('hub_ready')).toMatch(
      /^hub_ready\{service="premium-ingest"\} 1$/m,
    );
  });
});
