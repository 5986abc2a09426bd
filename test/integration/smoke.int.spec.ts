import '../support/fresh-namespace.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accounting } from '../../services/accounting/adapter.js';
import { disclosureAggregation } from '../../services/disclosure/aggregate.js';
import { hospitalReconciler } from '../../services/hospital-reconciler/adapter.js';
import { payoutIngest } from '../../services/payout-ingest/adapter.js';
import { premiumIngest } from '../../services/premium-ingest/adapter.js';
import { reconciler } from '../../services/reconciler/adapter.js';
import { settlementIngest } from '../../services/settlement-ingest/adapter.js';
import { readTopic } from '../../shared/read-topic.js';
import { TOPICS } from '../../shared/topics.js';
import { type HubTestBed, hubTestBed, startInProcess, testKafka } from '../support/stack.js';
import { memberId, premium, settlement } from '../support/streams.js';

const kafka = testKafka('smoke');
let bed: HubTestBed;
beforeAll(async () => {
  bed = await hubTestBed(kafka);
});
afterAll(async () => {
  await bed?.close();
});

it('smoke', async () => {
  for (const s of [
    premiumIngest,
    settlementIngest,
    payoutIngest,
    accounting,
    reconciler,
    hospitalReconciler,
    disclosureAggregation,
  ] as const)
    bed.running.push(await startInProcess(s as never));
  const s1 = settlement(
    'S1',
    1,
    { basic: '150000.00', overCap: '10000.00', claimed: '9000.00' },
    { serviceDate: '2025-02-10', settledAt: new Date('2025-02-10T06:00:00Z') },
  );
  await bed.producer.send({
    topic: TOPICS.hospitalSettlement.name,
    messages: [
      { key: memberId(1), value: bed.codec.encode(TOPICS.hospitalSettlement, 'hospital-settlement', s1) },
    ],
  });
  await new Promise((r) => setTimeout(r, 4000));
  await bed.producer.send({
    topic: TOPICS.taxPremium.name,
    messages: [
      {
        key: memberId(1),
        value: bed.codec.encode(TOPICS.taxPremium, 'premium-collected', premium(1, { paidOn: '2025-03-01' })),
      },
    ],
  });
  await new Promise((r) => setTimeout(r, 6000));
  const ledger = await readTopic<'ledger-posting'>(kafka, bed.codec, TOPICS.ledger, { idleMs: 1500 });
  for (const p of ledger)
    console.log(
      p.postingId,
      p.sequence,
      p.dueAmount?.toString(),
      p.lines.map((l) => `${l.direction[0]} ${l.account} ${l.amount}`).join(', '),
    );
  const recon = await readTopic<'reconciliation-result'>(kafka, bed.codec, TOPICS.reconciliation, {
    idleMs: 1500,
  });
  for (const r of recon) console.log(r.itemId, r.status, r.reason);
  const dl = await readTopic<'dead-letter'>(kafka, bed.codec, TOPICS.settlementDeadLetters, { idleMs: 500 });
  console.log(
    'dead letters',
    dl.map((d) => d.errorCode),
  );
  expect(ledger.length).toBe(3);
}, 120_000);
