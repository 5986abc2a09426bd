import { expect } from 'vitest';
import { decodeRecord, encodeRecord } from '../../../shared/avro.js';
import type { Result } from '../../../shared/errors.js';
import { formatMoney, sumMoney } from '../../../shared/money.js';
import type { LedgerPosting } from '../../../shared/records.js';
import type { Decision } from '../../../shared/runner/service.js';

// Helpers the ingest services' unit tests share: a decision's one ledger posting, checked on the way.

export function decided(result: Result<Decision>): Decision {
  if (!result.ok) throw new Error(`expected a decision: ${result.error.code} ${result.error.field}`);
  return result.value;
}

/** The decision's only output: a balanced ledger posting on the ledger topic, under `key`, that survives Avro. */
export function onlyPosting(decision: Decision, key: string): LedgerPosting {
  expect(decision.outputs).toHaveLength(1);
  const output = decision.outputs[0];
  if (output?.record !== 'ledger-posting') throw new Error('expected a ledger posting');
  expect(output.topic.name).toBe('medfund.fund.ledger.v1');
  expect(output.key).toBe(key);
  const posting = output.value;
  const side = (direction: 'DEBIT' | 'CREDIT') =>
    sumMoney(posting.lines.filter((l) => l.direction === direction).map((l) => l.amount));
  expect(formatMoney(side('DEBIT'))).toBe(formatMoney(side('CREDIT')));
  // The posting must be writable under the ledger's Avro contract, unchanged by the round trip.
  const roundTrip = decodeRecord('ledger-posting', encodeRecord('ledger-posting', posting));
  expect(JSON.parse(JSON.stringify(roundTrip))).toEqual(JSON.parse(JSON.stringify(posting)));
  return posting;
}

export const lines = (posting: LedgerPosting) =>
  posting.lines.map((l) => `${l.direction} ${l.account} ${formatMoney(l.amount)}`);
