import type { Service } from '../../shared/runner/service.js';
import { TOPICS } from '../../shared/topics.js';
import { type PayoutFact, parsePayout, payoutToJournal } from './decide.js';

/** Payout ingest as the runner sees it: insurer payouts in, journal out; no state. */
export const payoutIngest: Service<PayoutFact> = {
  name: 'payout-ingest',
  input: TOPICS.insurerPayout,
  deadLetters: TOPICS.payoutDeadLetters,
  outputs: [TOPICS.journal],
  parse: parsePayout,
  decide: payoutToJournal,
};
