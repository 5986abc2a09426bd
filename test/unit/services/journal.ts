import { accountingService } from '../../../services/accounting/adapter.js';
import type { JournalFact } from '../../../services/accounting/decide.js';
import { decodeRecord, encodeRecord } from '../../../shared/avro.js';
import { Decimal, formatMoney, type Money, sumMoney, ZERO } from '../../../shared/money.js';
import type {
  JournalCollectionClosed,
  JournalHospitalPayout,
  JournalManualClaim,
  JournalOperatingCost,
  JournalPremiumCollected,
  JournalPremiumCorrected,
  JournalSettlement,
  JournalSettlementReversal,
  LedgerPosting,
  RecordBySchemaName,
} from '../../../shared/records.js';
import type { EntityKind, EntityPeek, EntityStore, Service } from '../../../shared/runner/service.js';

// Journal facts for the accounting tests, and an in-memory store that sends every value through its
// Redis codec, so a test also proves the state reads back as it was written.

export const DEHONG = '533100';
export const KAIFENG = '410200';
export const DEHONG_HOSPITAL = 'H53310200003';
const yuan = (text: string | number) => new Decimal(text);

export const member = (n: number): string => `m_${n.toString(16).padStart(32, '0')}`;

let offset = 0;
const origin = (topic: string) => ({
  topic,
  partition: 0,
  offset: offset++,
  receivedAt: new Date('2025-01-01T00:00:00Z'),
});

export function fact<N extends JournalFact['record']>(record: N, value: RecordBySchemaName[N]): JournalFact {
  return { record, value, schemaId: 1 } as JournalFact;
}

export function premium(n: number, o: Partial<JournalPremiumCollected> = {}): JournalFact {
  return fact('journal-premium-collected', {
    eventId: `TAX-${n}-${offset}`,
    regionCode: DEHONG,
    memberPseudonym: member(n),
    payerType: 'UNIT_SHARE',
    coverYear: 2025,
    amount: yuan('180.00'),
    paidOn: '2025-03-01',
    enrolledOn: null,
    origin: origin('tax'),
    ...o,
  });
}

export function correction(
  n: number,
  originalEventId: string,
  o: Partial<JournalPremiumCorrected> = {},
): JournalFact {
  return fact('journal-premium-corrected', {
    eventId: `TAXC-${n}-${offset}`,
    originalEventId,
    regionCode: DEHONG,
    memberPseudonym: member(n),
    coverYear: 2025,
    originalAmount: yuan('180.00'),
    correctedAmount: yuan('0.00'),
    correctedOn: '2025-03-10',
    origin: origin('tax'),
    ...o,
  });
}

export function notice(o: Partial<JournalCollectionClosed> = {}): JournalFact {
  return fact('journal-collection-closed', {
    noticeId: `TAXN-${o.regionCode ?? DEHONG}-${o.coverYear ?? 2025}`,
    regionCode: DEHONG,
    coverYear: 2025,
    issuedOn: '2025-04-21',
    origin: origin('tax'),
    ...o,
  });
}

/** A settlement: `basic` the basic fund paid, `overCap` the in-scope amount above the basic cap, `claimed` hifob_pay. */
export function settlement(
  id: string,
  n: number,
  amounts: { basic: string; overCap: string; claimed: string },
  o: Partial<JournalSettlement> = {},
): JournalFact {
  const basic = yuan(amounts.basic);
  const overCap = yuan(amounts.overCap);
  return fact('journal-settlement', {
    settlementId: id,
    visitId: `V-${id}`,
    regionCode: DEHONG,
    hospitalCode: DEHONG_HOSPITAL,
    memberPseudonym: member(n),
    insuranceYear: 2025,
    serviceDate: '2025-02-10',
    settledAt: new Date('2025-02-10T06:00:00.000Z'),
    medicalType: 'INPATIENT',
    outOfArea: false,
    referral: 'NOT_APPLICABLE',
    inScopeAmount: basic.plus(overCap).plus(1000),
    basicFundPaid: basic,
    overBasicCapAmount: overCap,
    supplementClaimed: yuan(amounts.claimed),
    origin: origin('hospital'),
    ...o,
  });
}

export function reversal(
  id: string,
  original: JournalFact,
  o: Partial<JournalSettlementReversal> = {},
): JournalFact {
  const s = original.value as JournalSettlement;
  return fact('journal-settlement-reversal', {
    settlementId: id,
    originalSettlementId: s.settlementId,
    visitId: s.visitId,
    regionCode: s.regionCode,
    hospitalCode: s.hospitalCode,
    memberPseudonym: s.memberPseudonym,
    insuranceYear: s.insuranceYear,
    serviceDate: s.serviceDate,
    reversedAt: new Date(s.settledAt.getTime() + 3 * 86_400_000),
    medicalType: s.medicalType,
    outOfArea: s.outOfArea,
    referral: s.referral,
    inScopeAmount: s.inScopeAmount.negated(),
    basicFundPaid: s.basicFundPaid.negated(),
    overBasicCapAmount: s.overBasicCapAmount.negated(),
    supplementClaimed: s.supplementClaimed.negated(),
    origin: origin('hospital'),
    ...o,
  });
}

export function manualClaim(
  id: string,
  n: number,
  amounts: { basic: string; overCap: string; paid: string },
  o: Partial<JournalManualClaim> = {},
): JournalFact {
  const basic = yuan(amounts.basic);
  const overCap = yuan(amounts.overCap);
  return fact('journal-manual-claim', {
    claimId: id,
    regionCode: DEHONG,
    memberPseudonym: member(n),
    insuranceYear: 2025,
    serviceDate: '2025-05-06',
    medicalType: 'INPATIENT',
    hospitalCode: null,
    outOfArea: true,
    referral: 'REFERRED',
    inScopeAmount: basic.plus(overCap),
    basicFundPaid: basic,
    overBasicCapAmount: overCap,
    receivedOn: '2025-06-02',
    paidOn: '2025-06-16',
    amountPaid: yuan(amounts.paid),
    origin: origin('insurer'),
    ...o,
  });
}

export function hospitalPayout(
  id: string,
  amount: string,
  settlementIds: string[],
  o: Partial<JournalHospitalPayout> = {},
): JournalFact {
  return fact('journal-hospital-payout', {
    payoutId: id,
    regionCode: DEHONG,
    hospitalCode: DEHONG_HOSPITAL,
    month: '2025-02',
    insuranceYear: 2025,
    amount: yuan(amount),
    paidOn: '2025-03-15',
    settlementIds,
    origin: origin('insurer'),
    ...o,
  });
}

export function operatingCost(
  id: string,
  amount: string,
  o: Partial<JournalOperatingCost> = {},
): JournalFact {
  return fact('journal-operating-cost', {
    costId: id,
    regionCode: DEHONG,
    period: '2025-03',
    insuranceYear: 2025,
    category: 'STAFF',
    amount: yuan(amount),
    recordedOn: '2025-03-31',
    description: null,
    origin: origin('insurer'),
    ...o,
  });
}

/** Entities in memory, each stored as the Redis hash its kind's codec writes. */
export class MemoryStore implements EntityStore, EntityPeek {
  readonly hashes = new Map<string, Record<string, string>>();

  private key(kind: EntityKind<unknown>, id: string) {
    return `${kind.name}:${id}`;
  }

  get<T>(kind: EntityKind<T>, id: string): T {
    const fields = this.hashes.get(this.key(kind as EntityKind<unknown>, id));
    return fields === undefined ? kind.empty(id) : kind.decode(fields, id);
  }

  peek<T>(kind: EntityKind<T>, id: string): T | undefined {
    const fields = this.hashes.get(this.key(kind as EntityKind<unknown>, id));
    return fields === undefined ? undefined : kind.decode(fields, id);
  }

  put<T>(kind: EntityKind<T>, id: string, value: T): void {
    this.hashes.set(this.key(kind as EntityKind<unknown>, id), kind.encode(value));
  }
}

/** The store as `decide` sees it: only the entities `entitiesOf` named (the runner loads nothing else). */
export function namedStore<I>(service: Service<I>, store: MemoryStore, input: I): EntityStore {
  const allowed = new Set<string>();
  const peek: EntityPeek = { peek: (kind, id) => store.peek(kind, id) };
  for (;;) {
    const refs = service.state?.entitiesOf(input, peek) ?? [];
    const before = allowed.size;
    for (const [kind, id] of refs) allowed.add(`${kind.name}:${id}`);
    if (allowed.size === before) break;
  }
  const check = (kind: EntityKind<unknown>, id: string) => {
    if (!allowed.has(`${kind.name}:${id}`))
      throw new Error(`decide used ${kind.name}:${id}, which entitiesOf did not name`);
  };
  return {
    get: (kind, id) => {
      check(kind as EntityKind<unknown>, id);
      return store.get(kind, id);
    },
    put: (kind, id, value) => {
      check(kind as EntityKind<unknown>, id);
      store.put(kind, id, value);
    },
  };
}

/** Σ debits − Σ credits per account over postings: the ledger's balances. */
export function balances(postings: readonly LedgerPosting[]): Record<string, string> {
  const by = new Map<string, Money>();
  for (const p of postings) {
    for (const line of p.lines) {
      const signed = line.direction === 'DEBIT' ? line.amount : line.amount.negated();
      by.set(line.account, (by.get(line.account) ?? ZERO).plus(signed));
    }
  }
  const out: Record<string, string> = {};
  for (const [account, amount] of [...by].sort()) if (!amount.isZero()) out[account] = formatMoney(amount);
  return out;
}

/** The posting must be writable under the ledger's Avro contract and balance. */
export function checked(posting: LedgerPosting): LedgerPosting {
  const side = (direction: 'DEBIT' | 'CREDIT') =>
    sumMoney(posting.lines.filter((l) => l.direction === direction).map((l) => l.amount));
  if (!side('DEBIT').eq(side('CREDIT'))) throw new Error(`posting ${posting.postingId} does not balance`);
  return decodeRecord('ledger-posting', encodeRecord('ledger-posting', posting));
}

/** The accounting service fed fact by fact from memory: its postings and refusals, as the runner would publish them. */
export class Books {
  readonly store = new MemoryStore();
  readonly postings: LedgerPosting[] = [];
  /** The ledger key each posting was published under, by posting id. */
  readonly keys = new Map<string, string>();
  readonly refused: InvalidInput[] = [];

  apply(...facts: JournalFact[]): LedgerPosting[] {
    const added: LedgerPosting[] = [];
    for (const f of facts) {
      const parsed = accounting.parse(f, PARSE_CONTEXT);
      // decide sees only the entities entitiesOf names, as the runner loads nothing else.
      const result = parsed.ok
        ? accounting.decide(parsed.value, namedStore(accounting, this.store, parsed.value), DECIDE_CONTEXT)
        : parsed;
      if (!result.ok) {
        this.refused.push(result.error);
        continue;
      }
      for (const output of result.value.outputs()) {
        if (output.record !== 'ledger-posting') throw new Error(`unexpected output ${output.record}`);
        if (output.topic !== TOPICS.ledger)
          throw new Error(`posting on ${output.topic.name}, not the ledger`);
        this.keys.set(output.value.postingId, output.key);
        added.push(checked(output.value));
      }
    }
    this.postings.push(...added);
    return added;
  }

  balances(): Record<string, string> {
    return balances(this.postings);
  }
}

import type { InvalidInput } from '../../../shared/errors.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../../shared/identity.js';
import type { DecideContext, ParseContext } from '../../../shared/runner/service.js';
import { DEFAULT_TOPICS as TOPICS } from '../../support/config.js';

const accounting = accountingService(TOPICS);

const SOURCE = { topic: 'test.journal', partition: 0, offset: '0' };
const PARSE_CONTEXT: ParseContext = {
  pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
  receivedOn: '2025-01-01',
  source: SOURCE,
  timestamp: 0,
};
const DECIDE_CONTEXT: DecideContext = { source: SOURCE, receivedOn: '2025-01-01', partitionsOf: () => 6 };
