import { type ChildProcess, execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { premiumIngestService } from '../../services/premium-ingest/adapter.js';
import { REPO_ROOT } from '../../shared/config.js';
import { announcedInstances } from '../../shared/runner/announce.js';
import { topicsFor } from '../../shared/topics.js';
import { testConfig } from '../support/config.js';
import { NamespacedHub } from '../support/namespaced.js';
import {
  caughtUp,
  type HubTestBed,
  hubCommandEnvironment,
  hubTestBed,
  startInProcess,
  testKafka,
} from '../support/stack.js';

const CONFIG = testConfig();
const NAMESPACE = CONFIG.namespace;
const TOPICS = topicsFor(CONFIG);
const premiumIngest = premiumIngestService(TOPICS);

// `hub status` (issue 12, item 4) against the real stack: premium-ingest running and caught up with one
// dead letter, settlement-ingest killed (its announcement left behind) while three records wait for
// it, ten minutes old, and payout-ingest never started.

const kafka = testKafka('status-int');
let bed: HubTestBed;
const hub = new NamespacedHub(CONFIG, kafka);
let child: ChildProcess | undefined;

beforeAll(async () => {
  bed = await hubTestBed(kafka, CONFIG);
});

afterAll(async () => {
  // Killed by the test, so NamespacedHub.stop (which waits for an exit still to come) is not for it.
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await bed?.close();
});

/** Runs `hub status` as an operator would, without blocking this process (its services answer /healthz). */
async function hubStatus(): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(REPO_ROOT, 'services/hub-cli/hub.js'), 'status'],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          HUB_NAMESPACE: NAMESPACE,
          ...hubCommandEnvironment(),
        },
        timeout: 90_000,
      },
    );
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    // 1 is a finding (a service with no ready instance): the report is still printed.
    if (failed.code === 1 && failed.stdout) return { code: 1, stdout: failed.stdout };
    throw new Error(`hub status failed (${failed.code}): ${failed.stderr ?? ''}${failed.stdout ?? ''}`);
  }
}

describe('hub status', () => {
  it('shows a stopped service, a lagging one with the age of its oldest record, and dead letters by code', async () => {
    bed.running.push(await startInProcess(CONFIG, premiumIngest));
    child = hub.start('settlement-ingest');
    const deadline = Date.now() + 90_000;
    while ((await announcedInstances(bed.redis, NAMESPACE, 'settlement-ingest')).length === 0) {
      if (Date.now() > deadline)
        throw new Error(`settlement-ingest never announced itself: ${hub.stderr.get('settlement-ingest')}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const exited = hub.exited('settlement-ingest');
    hub.signal('settlement-ingest', 'SIGKILL');
    await exited;

    await bed.producer.send({ topic: TOPICS.taxPremium.name, messages: [{ key: 'k', value: null }] });
    await caughtUp(CONFIG, [premiumIngest]);
    const tenMinutesAgo = Date.now() - 10 * 60_000 - 5_000;
    await bed.producer.send({
      topic: TOPICS.hospitalSettlement.name,
      messages: [1, 2, 3].map((n) => ({ key: `k${n}`, value: null, timestamp: String(tenMinutesAgo + n) })),
    });

    const { code, stdout } = await hubStatus();
    const block = (service: string) => {
      const lines = stdout.split('\n');
      const start = lines.findIndex((l) => l.startsWith(`${service} (input `));
      return lines.slice(start, start + 4).join('\n');
    };
    expect(block('premium-ingest')).toBe(
      [
        `premium-ingest (input ${TOPICS.taxPremium.name})`,
        '  lag           0 of 1 messages',
        '  instances     1 of 1 ready',
        '  dead letters  1: NOT_AVRO 1',
      ].join('\n'),
    );
    expect(block('settlement-ingest')).toMatch(
      new RegExp(
        [
          `^settlement-ingest \\(input ${TOPICS.hospitalSettlement.name.replaceAll('.', '\\.')}\\)`,
          '  lag           3 of 3 messages, oldest unprocessed 10 min old',
          '  instances     0 of 1 ready; settlement-ingest-test at [0-9.]+:\\d+ not answering',
          '  dead letters  none$',
        ].join('\\n'),
      ),
    );
    expect(block('payout-ingest')).toBe(
      [
        `payout-ingest (input ${TOPICS.insurerPayout.name})`,
        '  lag           0 of 0 messages',
        '  instances     none announced (stopped?)',
        '  dead letters  none',
      ].join('\n'),
    );
    expect(stdout).toContain('reconciliation: no open discrepancy\n');
    // Every service but premium-ingest is stopped or was never started in this namespace.
    expect(stdout).toMatch(/^needs attention: .*settlement-ingest: no instance ready/m);
    expect(stdout).not.toMatch(/premium-ingest: no instance ready/);
    expect(code).toBe(1);
  });
});
