import type { Service } from '../shared/runner/service.js';
import { accounting } from './accounting/adapter.js';
import { disclosureAggregation } from './disclosure/adapter.js';
import { hospitalReconciler } from './hospital-reconciler/adapter.js';
import { payoutIngest } from './payout-ingest/adapter.js';
import { premiumIngest } from './premium-ingest/adapter.js';
import { reconciler } from './reconciler/adapter.js';
import { settlementIngest } from './settlement-ingest/adapter.js';

/**
 * Every service of the hub, in the order records flow through them: the one list that operations
 * (status, rebuild) and the demo take the services from. Each is its own consumer group and process
 * (services/<name>/main.ts; the disclosure process also publishes and serves the feed).
 */
export const SERVICES: readonly Service<unknown>[] = [
  premiumIngest,
  settlementIngest,
  payoutIngest,
  accounting,
  reconciler,
  hospitalReconciler,
  disclosureAggregation,
] as Service<unknown>[];

/** The services that keep state in Redis, which `hub rebuild` can rebuild from their input topics. */
export const STATEFUL_SERVICES: readonly Service<unknown>[] = SERVICES.filter((s) => s.state !== undefined);

export const serviceNamed = (name: string): Service<unknown> | undefined =>
  SERVICES.find((s) => s.name === name);
