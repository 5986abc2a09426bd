import type { Service } from '../../shared/runner/service.js';
import { TOPICS } from '../../shared/topics.js';
import { parseSettlement, type SettlementFact, settlementToJournal } from './decide.js';

/** Settlement ingest as the runner sees it: hospital settlements in, journal out; no state. */
export const settlementIngest: Service<SettlementFact> = {
  name: 'settlement-ingest',
  input: TOPICS.hospitalSettlement,
  deadLetters: TOPICS.settlementDeadLetters,
  outputs: [TOPICS.journal],
  parse: parseSettlement,
  decide: settlementToJournal,
};
