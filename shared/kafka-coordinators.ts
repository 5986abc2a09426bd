import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4 asks a broker for the coordinator before every coordinator request: a transaction of
 * one chunk (AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn) makes four FindCoordinator
 * round trips besides its five real ones. The Java client keeps the coordinator until a request to it
 * fails. This keeps kafkajs's answer per client (one `Cluster` per producer, consumer or admin) for a
 * short while: a coordinator that moved is found again once the entry is older than
 * `COORDINATOR_CACHE_MS`, or at once when the cached broker is no longer in the metadata. A new
 * producer (the runner renews it after a failed commit) starts with an empty cache.
 *
 * It patches kafkajs's internal `Cluster` class, so it is pinned to kafkajs 2.2.4 (package.json) and
 * checked by test/integration/kafka-coordinators.int.spec.ts against a real broker.
 */
export const COORDINATOR_CACHE_MS = 1_000;

interface Broker {
  readonly nodeId: number;
}
interface CoordinatorLookup {
  readonly groupId: string;
  readonly coordinatorType?: number;
}
interface Cached {
  readonly nodeId: number;
  readonly at: number;
}
interface ClusterPrototype {
  findGroupCoordinator(this: ClusterInstance, lookup: CoordinatorLookup): Promise<Broker>;
  findBroker(this: ClusterInstance, query: { nodeId: number }): Promise<Broker>;
  [INSTALLED]?: true;
}
type ClusterInstance = ClusterPrototype & { [CACHE]?: Map<string, Cached> };

const CACHE = Symbol('medfund-hub coordinator cache');
const INSTALLED = Symbol('medfund-hub coordinator cache installed');

/** Installs the cache into kafkajs's Cluster, once per process. */
export function cacheKafkajsCoordinators(): void {
  const Cluster = createRequire(import.meta.url)('kafkajs/src/cluster/index.js') as {
    prototype: ClusterPrototype;
  };
  const prototype = Cluster.prototype;
  if (prototype[INSTALLED]) return;
  const lookUp = prototype.findGroupCoordinator;
  prototype.findGroupCoordinator = async function (lookup) {
    let cache = this[CACHE];
    if (cache === undefined) {
      cache = new Map();
      this[CACHE] = cache;
    }
    const key = `${lookup.coordinatorType ?? 0}\u0000${lookup.groupId}`;
    const cached = cache.get(key);
    if (cached !== undefined && performance.now() - cached.at < COORDINATOR_CACHE_MS) {
      try {
        return await this.findBroker({ nodeId: cached.nodeId });
      } catch {
        cache.delete(key); // not in the metadata any more: ask again
      }
    }
    const broker = await lookUp.call(this, lookup);
    cache.set(key, { nodeId: broker.nodeId, at: performance.now() });
    return broker;
  };
  prototype[INSTALLED] = true;
}
