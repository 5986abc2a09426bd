import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killChaosRedis } from '../../deploy/local/chaos-redis.js';
import { stackDown, stackOptionsFromEnvironment } from '../../deploy/local/launcher.js';
import { REPO_ROOT } from '../../shared/config.js';

// The short version of `npm run chaos`: 100 members per region, 5 SIGKILLs (one twice in a row, one in
// a rebalance) and one broker SIGKILLed and started again, on a 3-node cluster of its own (the rest of
// the suite runs on one node). Then the same faults against a deliberately broken build
// (HUB_TEST_FAULTS=offsetsBeforeTransaction: offsets committed outside the transaction), which the
// comparison must catch. The full version (20 kills, the registry, Redis and a second instance too)
// is run by hand: README, "A year under faults".
//
// Its own ports, so it never meets the suite's stack or anyone's: Kafka 25392, 25394, 25396 (controllers
// +1), the registry 25381, its Redis 25379, the disclosure feed 25388 (below Linux's ephemeral range,
// 32768-60999, where an outgoing connection once held 39394 as CI started); HUB_CHAOS_TEST_PORT_OFFSET moves
// them all.

const offset = Number(process.env.HUB_CHAOS_TEST_PORT_OFFSET || 0);
const stateDir = mkdtempSync(join(tmpdir(), 'medfund-hub-chaos-test-'));
const reports = join(stateDir, 'reports');
const env: NodeJS.ProcessEnv = {
  ...process.env,
  HUB_KAFKA_PORT: String(25392 + offset),
  HUB_REGISTRY_PORT: String(25381 + offset),
  HUB_CHAOS_REDIS_PORT: String(25379 + offset),
  HUB_CHAOS_DISCLOSURE_PORT: String(25388 + offset),
  HUB_STACK_DIR: join(stateDir, 'stack'),
  // Not the suite's stack: chaos.ts starts its own and hands the services its endpoints.
  KAFKA_BROKERS: '',
  SCHEMA_REGISTRY_URL: '',
  REDIS_URL: '',
  HUB_TEST_FAULTS: '',
  LOG_LEVEL: 'warn',
};
const SHORT = [
  '--kills',
  '5',
  '--members',
  '100',
  '--seed',
  '1',
  '--without',
  'second-instance,registry,redis',
];

function chaos(
  args: string[],
  extra: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'deploy/local/chaos.ts', ...args, '--keep-stack'],
      {
        cwd: REPO_ROOT,
        env: { ...env, ...extra },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout }));
  });
}

const javaMissing = spawnSync('java', ['-version']).error !== undefined;

// Part of `npm test` (issue 14). HUB_TEST_CHAOS=0 leaves it out, saying so, for a quicker local run.
const chaosWanted = process.env.HUB_TEST_CHAOS !== '0';
const CHAOS_OFF = '[chaos] skipped: HUB_TEST_CHAOS=0 leaves the short chaos run out of this run\n';

afterAll(async () => {
  await killChaosRedis(`${env.HUB_STACK_DIR}-chaos-redis`);
  await stackDown(stackOptionsFromEnvironment(env, { log: () => {} }));
  rmSync(stateDir, { recursive: true, force: true });
}, 120_000);

/** Skips, saying why, when the short run is not wanted or cannot run here. */
function skipUnlessRunnable(context: { skip: () => void }): void {
  if (!chaosWanted) {
    process.stderr.write(CHAOS_OFF);
    context.skip();
  }
  if (javaMissing) {
    process.stderr.write('[chaos] skipped: no java on PATH for the 3-node Kafka cluster\n');
    context.skip();
  }
}

describe('a year under faults (npm run chaos, short)', () => {
  it('kills, a rebalance kill, a service killed twice in a row and a broker SIGKILL leave the same books', async (context) => {
    skipUnlessRunnable(context);
    const started = Date.now();
    const run = await chaos([...SHORT, '--keep', reports]);
    process.stderr.write(
      `[chaos] short version in ${((Date.now() - started) / 1000).toFixed(0)} s\n${run.stdout}`,
    );
    expect(run.stdout).toMatch(/SIGKILL broker kafka-\d/);
    expect(run.stdout).toMatch(/\(startup\)/);
    expect(run.stdout).toMatch(/\(rebalance\)/);
    expect(run.stdout.match(/\| SIGKILL (?!broker)\S+ \(/g)).toHaveLength(5);
    expect(run.stdout).not.toMatch(/DIFFERENT/);
    expect(run.stdout).toMatch(/chaos: IDENTICAL/);
    expect(run.code).toBe(0);
  }, 1_200_000);

  it('a build that commits offsets outside the transaction fails the comparison', async (context) => {
    skipUnlessRunnable(context);
    // The fault-free run of the test above is the oracle; only the faulted run is run again, broken.
    const run = await chaos([...SHORT, '--baseline', join(reports, 'fault-free', 'run.json')], {
      HUB_TEST_FAULTS: 'offsetsBeforeTransaction',
    });
    process.stderr.write(`[chaos] broken build:\n${run.stdout}`);
    expect(run.stdout).toMatch(/chaos: DIFFERENT/);
    // Where the lost chunk shows depends on whose kill lands between its early offset commit and its
    // transaction: an ingest service's loses inputs (then the run's own check names them), a later
    // stage's what it would have posted, reconciled or aggregated (seen on 2026-12-03: the reconciler's).
    if (/\| inputs ending as exactly one of those [^\n]*DIFFERENT/.test(run.stdout)) {
      expect(run.stdout).toMatch(
        /faulted run: every input message ends as one posting, one dead letter or a notice/,
      );
    } else {
      expect(run.stdout).toMatch(
        /\| (own postings|ledger balances \(account, region, year\)|reconciliation items: status, amounts|disclosures: figures) [^\n]*DIFFERENT/,
      );
    }
    expect(run.code).toBe(1);
  }, 1_200_000);
});
