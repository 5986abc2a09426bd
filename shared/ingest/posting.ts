import { ledgerKey } from '../ledger.js';
import type { PolicyParams } from '../policy/params.js';
import type { LedgerPosting } from '../records.js';
import type { DecideContext, Output } from '../runner/service.js';
import { TOPICS } from '../topics.js';

/** Where a posting came from, as the ledger schema records it. */
export function postingSource(
  context: DecideContext,
): Pick<LedgerPosting, 'sourceTopic' | 'sourcePartition' | 'sourceOffset'> {
  return {
    sourceTopic: context.source.topic,
    sourcePartition: context.source.partition,
    sourceOffset: Number(context.source.offset),
  };
}

/**
 * The parameter version applied, "<region>@<date>": the latest effective date among the parameters in
 * force, so two postings under the same values carry the same id (ledger-posting.avsc policyVersion).
 */
export function policyVersionOf(params: PolicyParams): string {
  let latest = params.region.document.effectiveFrom as string;
  for (const provenance of Object.values(params.provenance)) {
    if (provenance.effectiveFrom > latest) latest = provenance.effectiveFrom;
  }
  return `${params.region.code}@${latest}`;
}

/** A posting as an output of the ledger topic, keyed as the topic's key doc says. */
export function ledgerOutput(posting: LedgerPosting): Output {
  return { topic: TOPICS.ledger, key: ledgerKey(posting), record: 'ledger-posting', value: posting };
}
