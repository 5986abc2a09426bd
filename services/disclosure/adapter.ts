import type { LedgerPosting } from '../../shared/records.js';
import { GATHER_MS, type Service } from '../../shared/runner/service.js';
import type { Topics } from '../../shared/topics.js';
import { KEY_SEQUENCE, MEMBER_PART, PERIOD_AGGREGATE, PERIOD_INDEX } from './aggregate.js';
import { aggregationEntitiesOf, decideAggregation, parseLedgerPosting } from './decide.js';

/** The aggregation as the runner sees it: the fund ledger in, running totals in Redis, nothing published. */
export const disclosureAggregationService = (topics: Topics): Service<LedgerPosting> => ({
  name: 'disclosure',
  input: topics.ledger,
  deadLetters: topics.disclosureDeadLetters,
  gatherMs: GATHER_MS,
  outputs: [],
  parse: (decoded) => parseLedgerPosting(decoded, topics),
  state: {
    changelog: topics.disclosureChangelog,
    kinds: [PERIOD_AGGREGATE, PERIOD_INDEX, MEMBER_PART, KEY_SEQUENCE],
    entitiesOf: aggregationEntitiesOf,
  },
  decide: (posting, store) => decideAggregation(posting, store),
});
