import type { IngestService } from '../../shared/runner/service.js';
import { TOPICS } from '../../shared/topics.js';
import { decidePayout, type PayoutInput, parsePayout, payoutEventId, payoutStateKeys } from './decide.js';

/** Payout ingest as the runner sees it: insurer payout topic in, fund ledger out (design.md §2). */
export const payoutIngest: IngestService<PayoutInput> = {
  name: 'payout-ingest',
  input: TOPICS.insurerPayout,
  deadLetters: TOPICS.payoutDeadLetters,
  outputs: [TOPICS.ledger],
  parse: parsePayout,
  eventId: payoutEventId,
  stateKeys: payoutStateKeys,
  decide: decidePayout,
};
