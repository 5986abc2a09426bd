import type { Service } from '../../shared/runner/service.js';
import type { Topics } from '../../shared/topics.js';
import { accountingEntitiesOf, decideJournal, type JournalFact, parseJournal } from './decide.js';
import { KEY_YEAR, MEMBER_YEAR, REGION_YEAR } from './entities.js';

/** Accounting as the runner sees it: the journal in, the fund ledger out; member-years in Redis. */
export const accountingService = (topics: Topics): Service<JournalFact> => ({
  name: 'accounting',
  input: topics.journal,
  deadLetters: topics.accountingDeadLetters,
  outputs: [topics.ledger],
  parse: (decoded) => parseJournal(decoded, topics),
  state: {
    changelog: topics.accountingChangelog,
    kinds: [MEMBER_YEAR, REGION_YEAR, KEY_YEAR],
    entitiesOf: accountingEntitiesOf,
  },
  decide: (fact, store, context) => decideJournal(fact, store, context, topics),
});
