import type { IngestService } from '../../shared/runner/service.js';
import { TOPICS } from '../../shared/topics.js';
import {
  decidePremium,
  type PremiumInput,
  parsePremium,
  premiumEventId,
  premiumStateKeys,
} from './decide.js';

/** Premium ingest as the runner sees it: tax premium topic in, fund ledger out (design.md §2). */
export const premiumIngest: IngestService<PremiumInput> = {
  name: 'premium-ingest',
  input: TOPICS.taxPremium,
  deadLetters: TOPICS.premiumDeadLetters,
  outputs: [TOPICS.ledger],
  parse: parsePremium,
  eventId: premiumEventId,
  stateKeys: premiumStateKeys,
  decide: decidePremium,
};
