import { COUNTERS } from '../../shared/reconciliation.js';
import type { LedgerPosting } from '../../shared/records.js';
import { GATHER_MS, type Service } from '../../shared/runner/service.js';
import type { Topics } from '../../shared/topics.js';
import { decideReconciliation, parsePosting, reconcilerEntitiesOf } from './decide.js';
import { MANUAL_CLAIM_ITEM, MEMBER_YEAR_ITEM } from './items.js';

/** The reconciler's member stage as the runner sees it: the ledger in; results and hospital-month changes out. */
export const reconcilerService = (topics: Topics): Service<LedgerPosting> => ({
  name: 'reconciler',
  input: topics.ledger,
  deadLetters: topics.reconcilerDeadLetters,
  gatherMs: GATHER_MS,
  outputs: [topics.reconciliation, topics.hospitalMonth],
  parse: (decoded) => parsePosting(decoded, topics),
  state: {
    changelog: topics.reconcilerChangelog,
    kinds: [MEMBER_YEAR_ITEM, MANUAL_CLAIM_ITEM, COUNTERS],
    entitiesOf: reconcilerEntitiesOf,
  },
  decide: (posting, store) => decideReconciliation(posting, store, topics),
});
