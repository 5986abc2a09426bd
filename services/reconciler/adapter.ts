import type { LedgerPosting } from '../../shared/records.js';
import type { IngestService } from '../../shared/runner/service.js';
import { TOPICS } from '../../shared/topics.js';
import { decidePosting, parsePosting, postingEventId, reconcilerStateKeys } from './decide.js';

/** The reconciler as the runner sees it: fund ledger in, reconciliation results out (design.md §2). */
export const reconciler: IngestService<LedgerPosting> = {
  name: 'reconciler',
  input: TOPICS.ledger,
  deadLetters: TOPICS.reconcilerDeadLetters,
  outputs: [TOPICS.reconciliation],
  parse: parsePosting,
  eventId: postingEventId,
  stateKeys: reconcilerStateKeys,
  decide: decidePosting,
};
