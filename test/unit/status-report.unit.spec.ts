import { describe, expect, it } from 'vitest';
import {
  ageBucket,
  formatAge,
  formatStatus,
  formatStatusMetrics,
  oldestOpenDiscrepancy,
  type ServiceStatus,
  statusFindings,
} from '../../services/hub-cli/status-report.js';
import { Decimal } from '../../shared/money.js';
import type { ReconciliationResult } from '../../shared/records.js';

/** `hub status`'s formatting and bucketing (issue 12, item 4). */

describe('age buckets of an open discrepancy', () => {
  it.each([
    [0, '0-1'],
    [1, '0-1'],
    [1.9, '0-1'],
    [2, '2-7'],
    [7, '2-7'],
    [8, '8-30'],
    [30, '8-30'],
    [31, '>30'],
    [400, '>30'],
  ])('%s days is %s', (days, bucket) => {
    expect(ageBucket(days)).toBe(bucket);
  });
});

describe('ages', () => {
  it.each([
    [0, '0 s'],
    [59.9, '59 s'],
    [60, '1 min'],
    [3599, '59 min'],
    [3600, '1 h'],
    [3 * 3600 + 20 * 60, '3 h 20 min'],
    [86400, '1 d'],
    [5 * 86400 + 4 * 3600 + 59, '5 d 4 h'],
  ])('%s s reads %s', (seconds, text) => {
    expect(formatAge(seconds)).toBe(text);
  });
});

const result = (
  itemId: string,
  status: ReconciliationResult['status'],
  openedAt: string,
  kind: ReconciliationResult['kind'] = 'HOSPITAL_MONTH',
): ReconciliationResult => ({
  itemId,
  kind,
  status,
  regionCode: '410200',
  period: '2026-10',
  expected: new Decimal('10.00'),
  actual: new Decimal('9.00'),
  difference: new Decimal('-1.00'),
  hospitalCode: null,
  memberPseudonym: null,
  claimId: null,
  dueBy: null,
  ageDays: 0,
  openedAt: new Date(openedAt),
  updatedAt: new Date(openedAt),
  sourceEventId: null,
  reason: null,
});

describe('the oldest open discrepancy', () => {
  const now = new Date('2026-12-01T12:00:00+08:00');

  it('is the oldest item whose latest result is DISCREPANCY; a later MATCHED closes an item', () => {
    const found = oldestOpenDiscrepancy(
      [
        result('a', 'DISCREPANCY', '2026-10-01T00:00:00+08:00'),
        result('b', 'DISCREPANCY', '2026-11-20T00:00:00+08:00', 'MANUAL_CLAIM'),
        result('c', 'OPEN', '2026-01-01T00:00:00+08:00'),
        result('a', 'MATCHED', '2026-10-01T00:00:00+08:00'),
        result('d', 'DISCREPANCY', '2026-11-25T00:00:00+08:00'),
      ],
      now,
    );
    expect(found).toEqual({
      kind: 'MANUAL_CLAIM',
      region: '410200',
      period: '2026-10',
      openedAt: new Date('2026-11-20T00:00:00+08:00'),
      ageDays: 11,
      bucket: '8-30',
      open: 2,
    });
  });

  it('is null when every item is matched, closed or still open', () => {
    expect(
      oldestOpenDiscrepancy([result('a', 'MATCHED', '2026-10-01'), result('c', 'OPEN', '2026-01-01')], now),
    ).toBeNull();
  });
});

describe('the status text', () => {
  const base: ServiceStatus = {
    service: 'premium-ingest',
    topic: 'demo.tax.premium.v1',
    topicExists: true,
    end: 120,
    lag: 0,
    lagSeconds: null,
    instances: [{ instance: 'p-1', address: '10.0.0.5:40001', alive: true, ready: true, stale: false }],
    deadLetters: { NOT_AVRO: 1, ID_CHECKSUM: 3 },
  };

  it('says per service the lag and its age, the instances and the dead letters by code', () => {
    const text = formatStatus(
      'demo',
      [
        base,
        {
          ...base,
          service: 'settlement-ingest',
          topic: 'demo.hospital.settlement.v1',
          lag: 3,
          lagSeconds: 605,
          instances: [
            { instance: 's-1', address: '10.0.0.5:40002', alive: false, ready: false, stale: false },
            { instance: 's-2', address: '10.0.0.6:40003', alive: false, ready: false, stale: true },
            { instance: 's-3', address: '10.0.0.6:40004', alive: true, ready: false, stale: false },
          ],
          deadLetters: {},
        },
        {
          ...base,
          service: 'payout-ingest',
          topic: 'demo.insurer.payout.v1',
          topicExists: false,
          instances: [],
        },
        { ...base, service: 'accounting', topic: 'demo.fund.journal.v1', instances: 'Redis did not answer' },
      ],
      {
        kind: 'HOSPITAL_MONTH',
        region: '533100',
        period: '2026-09',
        openedAt: new Date('2026-10-01T00:00:00+08:00'),
        ageDays: 61,
        bucket: '>30',
        open: 4,
      },
    );
    expect(text).toBe(
      [
        'namespace demo',
        'premium-ingest (input demo.tax.premium.v1)',
        '  lag           0 of 120 messages',
        '  instances     1 of 1 ready',
        '  dead letters  4: ID_CHECKSUM 3, NOT_AVRO 1',
        'settlement-ingest (input demo.hospital.settlement.v1)',
        '  lag           3 of 120 messages, oldest unprocessed 10 min old',
        '  instances     0 of 3 ready; s-1 at 10.0.0.5:40002 not answering; s-2 at 10.0.0.6:40003 gone (announcement expired); s-3 at 10.0.0.6:40004 alive, not ready',
        '  dead letters  none',
        'payout-ingest (input demo.insurer.payout.v1)',
        '  lag           no topic',
        '  instances     none announced (stopped?)',
        '  dead letters  4: ID_CHECKSUM 3, NOT_AVRO 1',
        'accounting (input demo.fund.journal.v1)',
        '  lag           0 of 120 messages',
        '  instances     unknown: Redis did not answer',
        '  dead letters  4: ID_CHECKSUM 3, NOT_AVRO 1',
        'reconciliation: 4 open discrepancies; oldest HOSPITAL_MONTH 533100 2026-09, opened 2026-10-01, 61 days (>30 days)',
        'some topics do not exist in namespace demo: run `npx hub topics create --namespace demo`',
        'needs attention: settlement-ingest: no instance ready; payout-ingest: no input topic; accounting: instances unknown',
        '',
      ].join('\n'),
    );
  });

  it('exits 1 only for a service without its topic or without a ready instance', () => {
    expect(statusFindings([base])).toEqual([]);
    expect(
      statusFindings([
        { ...base, lag: 5000, lagSeconds: 9000, deadLetters: { NOT_AVRO: 40 } },
        {
          ...base,
          service: 'accounting',
          instances: [{ instance: 'a-1', address: '10.0.0.5:40009', alive: true, ready: true, stale: true }],
        },
        { ...base, service: 'reconciler', instances: [] },
      ]),
    ).toEqual(['accounting: no instance ready', 'reconciler: no instance ready']);
  });

  it('writes the textfile-collector metrics: ready instances per service, the open discrepancies and the oldest one', () => {
    const text = formatStatusMetrics(
      'demo',
      [
        base,
        { ...base, service: 'accounting', instances: 'Redis did not answer' },
        {
          ...base,
          service: 'reconciler',
          instances: [
            { instance: 'r-1', address: '10.0.0.5:40010', alive: true, ready: true, stale: false },
            { instance: 'r-2', address: '10.0.0.6:40011', alive: true, ready: false, stale: false },
          ],
        },
      ],
      {
        kind: 'MEMBER_YEAR',
        region: '410200',
        period: '2025',
        openedAt: new Date('2025-01-07T00:00:00+08:00'),
        ageDays: 694,
        bucket: '>30',
        open: 21,
      },
    );
    expect(text).toBe(
      [
        '# HELP hub_status_ready_instances Instances of the service alive and ready, as hub status reads them.',
        '# TYPE hub_status_ready_instances gauge',
        'hub_status_ready_instances{namespace="demo",service="premium-ingest"} 1',
        'hub_status_ready_instances{namespace="demo",service="accounting"} 0',
        'hub_status_ready_instances{namespace="demo",service="reconciler"} 1',
        '# HELP hub_reconciliation_open_discrepancies Reconciliation items whose latest result is DISCREPANCY.',
        '# TYPE hub_reconciliation_open_discrepancies gauge',
        'hub_reconciliation_open_discrepancies{namespace="demo"} 21',
        '# HELP hub_reconciliation_oldest_open_discrepancy_days Whole days since the oldest open discrepancy opened (0 when none is open).',
        '# TYPE hub_reconciliation_oldest_open_discrepancy_days gauge',
        'hub_reconciliation_oldest_open_discrepancy_days{namespace="demo",kind="MEMBER_YEAR",region="410200",bucket=">30"} 694',
        '',
      ].join('\n'),
    );
    expect(formatStatusMetrics('demo', [], null)).toContain(
      'hub_reconciliation_oldest_open_discrepancy_days{namespace="demo"} 0\n',
    );
  });
});
