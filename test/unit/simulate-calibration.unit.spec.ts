import { describe, expect, it } from 'vitest';
import { generateYear, isRawEvent, type SimulatedYear } from '../../deploy/simulate/generate.js';
import { FAULT_KINDS } from '../../deploy/simulate/truth.js';
import { parseSimulateArgs } from '../../services/hub-cli/simulate.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { formatMoney } from '../../shared/money.js';
import { DEFAULT_TOPICS as TOPICS } from '../support/config.js';
import { type InputEvent, type MemoryHubRun, runMemoryHub } from '../support/memory-hub.js';

// The demo's year (`npm run demo` runs `hub simulate --region R --year 2025 --members 2000 --seed 1`, every
// fault on, for Kaifeng and Dehong), decided by the whole hub in memory: its annual figures against the
// illustrative premiums (README.md "The synthetic year" has the figures and where the bands come from).

const KAIFENG = '410200';
const DEHONG = '533100';
// After every event of the year, manual claims paid in the spring included: the services' "today".
const RECEIVED_AT = Date.parse('2026-11-25T00:00:00Z');

interface DemoYear {
  readonly simulated: SimulatedYear;
  readonly hub: MemoryHubRun;
  readonly year: string;
  readonly members: number;
}

const cache = new Map<string, DemoYear>();
/** The demo's year of a region, with `hub simulate`'s defaults (the demo's: 2000 members, 2025, seed 1). */
function demoYear(region: string): DemoYear {
  let found = cache.get(region);
  if (found === undefined) {
    const parsed = parseSimulateArgs(['--region', region]);
    if (parsed.kind !== 'run') throw new Error(`hub simulate --region ${region}: ${parsed.kind}`);
    const { year, members, seed, faults } = parsed.args;
    const simulated = generateYear({
      region,
      year,
      members,
      seed,
      faults,
      pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
      topics: TOPICS,
    });
    const inputs: InputEvent[] = simulated.events.map((e) =>
      isRawEvent(e)
        ? { topic: e.topic, key: e.key, bytes: e.bytes, timestamp: RECEIVED_AT }
        : { topic: e.topic, key: e.key, record: e.record, value: e.value, timestamp: RECEIVED_AT },
    );
    found = { simulated, hub: runMemoryHub(inputs, 'publication'), year: String(year), members };
    cache.set(region, found);
  }
  return found;
}

describe('hub simulate: the demo year uses the demo defaults', () => {
  it('2000 members, 2025, seed 1, every fault', () => {
    const parsed = parseSimulateArgs(['--region', KAIFENG]);
    expect(parsed.kind === 'run' && [parsed.args.members, parsed.args.year, parsed.args.seed]).toEqual([
      2000, 2025, 1,
    ]);
  });
});

describe.each([
  [KAIFENG, 'Kaifeng'],
  [DEHONG, 'Dehong'],
])('hub simulate %s (%s): a plausible demo year', (region) => {
  it('pays claims (direct and manual) of 60–95 % of its premium income', { timeout: 120_000 }, () => {
    const { hub, year } = demoYear(region);
    const t = hub.totals(region, year);
    const claims = t.claimsPaidDirect.plus(t.claimsPaidManual);
    const lossRatio = claims.div(t.premiumIncome).toNumber();
    expect(
      lossRatio,
      `claims ${formatMoney(claims)} / premiums ${formatMoney(t.premiumIncome)}`,
    ).toBeGreaterThanOrEqual(0.6);
    expect(lossRatio).toBeLessThanOrEqual(0.95);
    // Most of the money goes to settlements at the region's hospitals; manual claims are the minority.
    expect(t.claimsPaidManual.lt(t.claimsPaidDirect)).toBe(true);
  });

  it('pays direct claims in every month of the year, January and December included', {
    timeout: 120_000,
  }, () => {
    const { hub, year } = demoYear(region);
    const months = Array.from({ length: 12 }, (_, m) => `${year}-${String(m + 1).padStart(2, '0')}`);
    const empty = months.filter((month) => !hub.totals(region, month).claimsPaidDirect.gt(0));
    expect(empty).toEqual([]);
  });

  it('has a few members per thousand crossing the basic fund cap (0.2–0.8 %)', { timeout: 120_000 }, () => {
    const { simulated, members } = demoYear(region);
    const share = simulated.truth.distribution.membersReachingBasicCap / members;
    expect(share).toBeGreaterThanOrEqual(0.002);
    expect(share).toBeLessThanOrEqual(0.008);
  });

  it('still injects every fault: the hub writes the dead letters and reaches the items the truth lists', {
    timeout: 120_000,
  }, () => {
    const { simulated, hub } = demoYear(region);
    const { truth } = simulated;
    expect(truth.faults.injected.map((f) => f.kind).sort()).toEqual([...FAULT_KINDS].sort());
    const latest = new Map(hub.results.map((r) => [r.itemId, r.status]));
    for (const fault of truth.faults.injected) {
      expect(fault.events.length, fault.kind).toBeGreaterThan(0);
      expect(fault.reconciliation.length + fault.deadLetters.length, fault.kind).toBeGreaterThan(0);
      for (const item of fault.reconciliation) expect(latest.get(item.itemId), item.itemId).toBe(item.status);
    }
    const expected = truth.deadLetters.map((d) => `${d.index} ${d.service} ${d.errorCode} ${d.field}`).sort();
    const got = hub.deadLetters.map((d) => `${d.index} ${d.service} ${d.code} ${d.field}`).sort();
    expect(got).toEqual(expected);
  });
});
