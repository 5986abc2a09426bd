import { describe, expect, it } from 'vitest';
import { servicesFor } from '../../services/catalogue.js';
import { hubConfig } from '../../shared/config.js';
import { fetchWait, runnerOptionsFromEnvironment } from '../../shared/runner/runner.js';
import { topicsFor } from '../../shared/topics.js';

// Which services let a fetch gather records (Service.gatherMs) and what the consumer is told (runner.ts).

const environment = (extra: Record<string, string>) => ({
  KAFKA_BROKERS: '127.0.0.1:1',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:2',
  REDIS_URL: 'redis://127.0.0.1:3',
  HUB_PSEUDONYM_KEY: 'ab'.repeat(32),
  ...extra,
});

describe('fetch waits', () => {
  it('the two stages a produce-to-ledger record passes decide at once; the ledger consumers gather a second', () => {
    const gathering = Object.fromEntries(
      servicesFor(topicsFor(hubConfig())).map((s) => [s.name, s.gatherMs]),
    );
    expect(gathering).toEqual({
      'premium-ingest': undefined,
      'settlement-ingest': undefined,
      'payout-ingest': undefined,
      accounting: undefined,
      reconciler: 1000,
      'hospital-reconciler': 1000,
      disclosure: 1000,
    });
  });

  it('deciding at once: the broker answers with the first byte, or after a second with nothing', () => {
    expect(fetchWait(0)).toEqual({ minBytes: 1, maxWaitTimeInMs: 1000 });
  });

  it('gathering: the broker answers when a MiB is there or the wait is over', () => {
    expect(fetchWait(1000)).toEqual({ minBytes: 1_048_576, maxWaitTimeInMs: 1000 });
    expect(fetchWait(250)).toEqual({ minBytes: 1_048_576, maxWaitTimeInMs: 250 });
  });

  it('HUB_GATHER_MS replaces the wait (0: decide at once); anything but an integer ≥ 0 is refused by name', () => {
    expect(runnerOptionsFromEnvironment('reconciler', environment({})).gatherMs).toBeUndefined();
    expect(runnerOptionsFromEnvironment('reconciler', environment({ HUB_GATHER_MS: '250' })).gatherMs).toBe(
      250,
    );
    expect(runnerOptionsFromEnvironment('reconciler', environment({ HUB_GATHER_MS: '0' })).gatherMs).toBe(0);
    expect(() => runnerOptionsFromEnvironment('reconciler', environment({ HUB_GATHER_MS: '1.5' }))).toThrow(
      "HUB_GATHER_MS: '1.5' is not an integer ≥ 0",
    );
  });
});
