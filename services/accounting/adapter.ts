import type { Service } from '../../shared/runner/service.js';
import { TOPICS } from '../../shared/topics.js';
import { accountingEntitiesOf, decideJournal, type JournalFact, parseJournal } from './decide.js';
import { KEY_YEAR, MEMBER_YEAR, REGION_YEAR } from './entities.js';

/** Accounting as the runner sees it: the journal in, the fund ledger out; member-years in Redis. */
export const accounting: Service<JournalFact> = {
  name: 'accounting',
  input: TOPICS.journal,
  deadLetters: TOPICS.accountingDeadLetters,
  outputs: [TOPICS.ledger],
  parse: parseJournal,
  state: {
    kinds: [MEMBER_YEAR, REGION_YEAR, KEY_YEAR],
    entitiesOf: accountingEntitiesOf,
  },
  decide: decideJournal,
};
