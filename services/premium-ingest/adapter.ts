import type { Service } from '../../shared/runner/service.js';
import type { Topics } from '../../shared/topics.js';
import { type PremiumFact, parsePremium, premiumToJournal } from './decide.js';

/** Premium ingest as the runner sees it: tax premium topic in, journal out; no state. */
export const premiumIngestService = (topics: Topics): Service<PremiumFact> => ({
  name: 'premium-ingest',
  input: topics.taxPremium,
  deadLetters: topics.premiumDeadLetters,
  outputs: [topics.journal],
  parse: (decoded, context) => parsePremium(decoded, context, topics),
  decide: (fact, state, context) => premiumToJournal(fact, state, context, topics),
});
