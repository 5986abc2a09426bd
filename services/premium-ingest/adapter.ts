import type { Service } from '../../shared/runner/service.js';
import { TOPICS } from '../../shared/topics.js';
import { type PremiumFact, parsePremium, premiumToJournal } from './decide.js';

/** Premium ingest as the runner sees it: tax premium topic in, journal out; no state. */
export const premiumIngest: Service<PremiumFact> = {
  name: 'premium-ingest',
  input: TOPICS.taxPremium,
  deadLetters: TOPICS.premiumDeadLetters,
  outputs: [TOPICS.journal],
  parse: parsePremium,
  decide: premiumToJournal,
};
