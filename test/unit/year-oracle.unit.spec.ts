import { describe, expect, it } from 'vitest';
import { generateYear, isRawEvent } from '../../deploy/simulate/generate.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { formatMoney } from '../../shared/money.js';
import type { LedgerPosting } from '../../shared/records.js';
import { DEFAULT_TOPICS as TOPICS } from '../support/config.js';
import { type InputEvent, runMemoryHub } from '../support/memory-hub.js';
import { referenceBooks, referenceInputOf, yuanText } from '../support/reference.js';

// The year test's oracle (test/support/reference.ts) and the hub must agree claim by claim on a simulated
// year: two independent calculations of the same policy. A difference is a bug in one of them.

describe.each(['533100', '410200'])('the reference books of a simulated %s year', (region) => {
  const simulated = generateYear({
    region,
    year: 2025,
    members: 300,
    seed: 3,
    pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
    topics: TOPICS,
  });
  const reference = referenceBooks(referenceInputOf(simulated, region));
  const inputs: InputEvent[] = simulated.events.map((e) =>
    isRawEvent(e)
      ? { topic: e.topic, key: e.key, bytes: e.bytes }
      : { topic: e.topic, key: e.key, record: e.record, value: e.value },
  );
  const hub = runMemoryHub(inputs, 'random', 9);

  it('agree with the hub on what every claim owes at the end', { timeout: 60_000 }, () => {
    const latest = new Map<string, LedgerPosting>();
    for (const p of hub.ledger) {
      if (!p.kind.startsWith('SETTLEMENT') && !p.kind.startsWith('MANUAL')) continue;
      const known = latest.get(p.sourceEventId);
      if (known === undefined || p.revision > known.revision) latest.set(p.sourceEventId, p);
    }
    expect(latest.size).toBe(reference.due.size);
    let owing = 0;
    for (const [id, fen] of reference.due) {
      expect(formatMoney(latest.get(id)?.dueAmount ?? ({ toFixed: () => 'held' } as never)), id).toBe(
        yuanText(fen),
      );
      if (fen > 0) owing += 1;
    }
    expect(owing).toBeGreaterThan(10);
  });

  it('agree with the hub on the year’s totals and every hospital-month', () => {
    const year = hub.totals(region, '2025');
    expect([
      formatMoney(year.premiumIncome),
      formatMoney(year.claimsPaidDirect),
      formatMoney(year.claimsPaidManual),
      formatMoney(year.operatingCost),
    ]).toEqual(
      [
        reference.year.premiumIncome,
        reference.year.claimsPaidDirect,
        reference.year.claimsPaidManual,
        reference.year.operatingCost,
      ].map(yuanText),
    );
    const items = new Map(hub.results.map((r) => [r.itemId, r]));
    for (const [key, month] of reference.hospitalMonths) {
      const item = items.get(`HOSPITAL_MONTH:${region}:${key}`);
      expect([item?.expected.toFixed(2), item?.actual.toFixed(2)], key).toEqual([
        yuanText(month.due),
        yuanText(month.paid),
      ]);
    }
  });
});
