import { expect } from 'vitest';
import { hubServices } from '../../../services/catalogue.js';
import { decodeRecord, encodeRecord } from '../../../shared/avro.js';
import type { InvalidInput } from '../../../shared/errors.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../../shared/identity.js';
import { COUNTERS, type Counters, countersId } from '../../../shared/reconciliation.js';
import type { HospitalMonthChange, LedgerPosting, ReconciliationResult } from '../../../shared/records.js';
import type { DecodedValue } from '../../../shared/registry.js';
import type { Output, Service } from '../../../shared/runner/service.js';
import { DEFAULT_TOPICS as TOPICS } from '../../support/config.js';
import { MemoryStore, namedStore } from './journal.js';

const { reconciler, hospitalReconciler } = hubServices(TOPICS);

// The two reconciler stages fed from memory, as the runner would: parse, load only the entities the
// service names, decide, publish. Every output is checked to survive its Avro schema unchanged.

const PARSE_CONTEXT = {
  pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
  receivedOn: '2025-01-01',
  source: { topic: 'test', partition: 0, offset: '0' },
  timestamp: 0,
};
const DECIDE_CONTEXT = { source: PARSE_CONTEXT.source, receivedOn: '2025-01-01', partitionsOf: () => 1 };

/** An output read back through its schema, equal to what was written. */
function throughAvro(output: Output): Output {
  const value = decodeRecord(output.record, encodeRecord(output.record, output.value as never));
  expect(JSON.parse(JSON.stringify(value))).toEqual(JSON.parse(JSON.stringify(output.value)));
  return { ...output, value } as Output;
}

class Stage<I> {
  readonly store = new MemoryStore();
  readonly refused: InvalidInput[] = [];

  constructor(private readonly service: Service<I>) {}

  /** Decides one decoded record; returns its outputs (none when refused). */
  decide(decoded: DecodedValue): Output[] {
    const parsed = this.service.parse(decoded, PARSE_CONTEXT);
    const result = parsed.ok
      ? this.service.decide(parsed.value, namedStore(this.service, this.store, parsed.value), DECIDE_CONTEXT)
      : parsed;
    if (!result.ok) {
      this.refused.push(result.error);
      return [];
    }
    return result.value.outputs().map(throughAvro);
  }

  counters(region: string, year: number): Counters {
    return this.store.get(COUNTERS, countersId(region, year));
  }
}

const resultsOf = (outputs: readonly Output[]): ReconciliationResult[] =>
  outputs.flatMap((o) => {
    if (o.record !== 'reconciliation-result') return [];
    expect(o.topic).toBe(TOPICS.reconciliation);
    expect(o.key).toBe(o.value.itemId);
    return [o.value];
  });

/** The member stage: ledger postings in; results and hospital-month changes out. */
export class MemberStage extends Stage<LedgerPosting> {
  readonly results: ReconciliationResult[] = [];
  readonly changes: HospitalMonthChange[] = [];

  constructor() {
    super(reconciler);
  }

  /** Each posting in turn; what they published. */
  apply(...postings: readonly LedgerPosting[]): {
    results: ReconciliationResult[];
    changes: HospitalMonthChange[];
  } {
    const results: ReconciliationResult[] = [];
    const changes: HospitalMonthChange[] = [];
    for (const posting of postings) {
      const outputs = this.decide({ record: 'ledger-posting', value: posting, schemaId: 1 });
      for (const output of outputs) {
        expect(['reconciliation-result', 'hospital-month-change']).toContain(output.record);
        if (output.record !== 'hospital-month-change') continue;
        expect(output.topic).toBe(TOPICS.hospitalMonth);
        expect(output.key).toBe(output.value.hospitalCode);
        changes.push(output.value);
      }
      results.push(...resultsOf(outputs));
    }
    this.results.push(...results);
    this.changes.push(...changes);
    return { results, changes };
  }
}

/** The hospital stage: hospital-month changes in; results out. */
export class HospitalStage extends Stage<HospitalMonthChange> {
  readonly results: ReconciliationResult[] = [];

  constructor() {
    super(hospitalReconciler);
  }

  apply(...changes: readonly HospitalMonthChange[]): ReconciliationResult[] {
    const results: ReconciliationResult[] = [];
    for (const change of changes) {
      results.push(
        ...resultsOf(this.decide({ record: 'hospital-month-change', value: change, schemaId: 1 })),
      );
    }
    this.results.push(...results);
    return results;
  }
}

/** The one result of an item among those published, which must be there once. */
export function only(results: readonly ReconciliationResult[], itemId: string): ReconciliationResult {
  const found = results.filter((r) => r.itemId === itemId);
  expect(found.map((r) => r.itemId)).toEqual([itemId]);
  return found[0] as ReconciliationResult;
}

/** The latest result of an item. */
export function latest(results: readonly ReconciliationResult[], itemId: string): ReconciliationResult {
  const found = results.filter((r) => r.itemId === itemId).at(-1);
  if (found === undefined) throw new Error(`no result for ${itemId}`);
  return found;
}

export const brief = (r: ReconciliationResult) => ({
  status: r.status,
  expected: r.expected.toFixed(2),
  actual: r.actual.toFixed(2),
  difference: r.difference.toFixed(2),
});

export const chinaMidnight = (date: string) => new Date(`${date}T00:00:00+08:00`);

/** The counters as "KIND:STATUS" → [count, amount], leaving out empty slots. */
export function counted(counters: Counters): Record<string, [number, string]> {
  const out: Record<string, [number, string]> = {};
  for (const [slot, count] of [...counters.counts].sort()) {
    const amount = counters.amounts.get(slot)?.toFixed(2) ?? '0.00';
    if (count === 0 && amount === '0.00') continue;
    out[slot] = [count, amount];
  }
  return out;
}
