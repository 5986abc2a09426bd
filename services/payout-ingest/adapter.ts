import type { Service } from '../../shared/runner/service.js';
import type { Topics } from '../../shared/topics.js';
import { type PayoutFact, parsePayout, payoutToJournal } from './decide.js';

/** Payout ingest as the runner sees it: insurer payouts in, journal out; no state. */
export const payoutIngestService = (topics: Topics): Service<PayoutFact> => ({
  name: 'payout-ingest',
  input: topics.insurerPayout,
  deadLetters: topics.payoutDeadLetters,
  outputs: [topics.journal],
  parse: (decoded, context) => parsePayout(decoded, context, topics),
  decide: (fact) => payoutToJournal(fact, topics),
});
