import type { IngestService } from '../../shared/runner/service.js';
import { TOPICS } from '../../shared/topics.js';
import {
  decideSettlement,
  parseSettlement,
  type SettlementInput,
  settlementEventId,
  settlementStateKeys,
} from './decide.js';

/** Settlement ingest as the runner sees it: hospital settlements in, ledger postings out. */
export const settlementIngest: IngestService<SettlementInput> = {
  name: 'settlement-ingest',
  input: TOPICS.hospitalSettlement,
  deadLetters: TOPICS.settlementDeadLetters,
  outputs: [TOPICS.ledger],
  parse: parseSettlement,
  eventId: settlementEventId,
  stateKeys: settlementStateKeys,
  decide: decideSettlement,
};
