import type { Service } from '../../shared/runner/service.js';
import type { Topics } from '../../shared/topics.js';
import { parseSettlement, type SettlementFact, settlementToJournal } from './decide.js';

/** Settlement ingest as the runner sees it: hospital settlements in, journal out; no state. */
export const settlementIngestService = (topics: Topics): Service<SettlementFact> => ({
  name: 'settlement-ingest',
  input: topics.hospitalSettlement,
  deadLetters: topics.settlementDeadLetters,
  outputs: [topics.journal],
  parse: (decoded, context) => parseSettlement(decoded, context, topics),
  decide: (fact) => settlementToJournal(fact, topics),
});
