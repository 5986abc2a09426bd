import { hubConfig } from '../shared/config.js';
import type { Service } from '../shared/runner/service.js';
import { type Topics, topicsFor } from '../shared/topics.js';
import { accountingService } from './accounting/adapter.js';
import { disclosureAggregationService } from './disclosure/adapter.js';
import { hospitalReconcilerService } from './hospital-reconciler/adapter.js';
import { payoutIngestService } from './payout-ingest/adapter.js';
import { premiumIngestService } from './premium-ingest/adapter.js';
import { reconcilerService } from './reconciler/adapter.js';
import { settlementIngestService } from './settlement-ingest/adapter.js';

/** Every service of the hub built for one namespace's topics, by name, in the order records flow through them. */
export const hubServices = (topics: Topics) => ({
  premiumIngest: premiumIngestService(topics),
  settlementIngest: settlementIngestService(topics),
  payoutIngest: payoutIngestService(topics),
  accounting: accountingService(topics),
  reconciler: reconcilerService(topics),
  hospitalReconciler: hospitalReconcilerService(topics),
  disclosureAggregation: disclosureAggregationService(topics),
});

/**
 * Every service of the hub, in the order records flow through them: the one list that operations
 * (status, rebuild, the ACLs) take the services from. Each is its own consumer group and process
 * (services/<name>/main.ts; the disclosure process also publishes and serves the feed).
 */
export const servicesFor = (topics: Topics): readonly Service<unknown>[] =>
  Object.values(hubServices(topics)) as Service<unknown>[];

/** The services that keep state in Redis, which `hub rebuild` can rebuild from their input topics. */
export const statefulServicesFor = (topics: Topics): readonly Service<unknown>[] =>
  servicesFor(topics).filter((s) => s.state !== undefined);

/**
 * The services' names and whether each keeps state, the same in every namespace: what the stack's
 * principals, Redis users and the CLI's choices are made from.
 */
export const SERVICE_ROLES: readonly { readonly name: string; readonly state?: unknown }[] = servicesFor(
  topicsFor(hubConfig()),
).map(({ name, state }) => ({ name, state }));

export const SERVICE_NAMES: readonly string[] = SERVICE_ROLES.map((s) => s.name);
