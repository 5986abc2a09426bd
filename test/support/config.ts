import { randomBytes } from 'node:crypto';
import { type HubConfig, hubConfig } from '../../shared/config.js';
import { topicsFor } from '../../shared/topics.js';

/**
 * A hub of its own for a test file (or a second hub in it): a namespace no other run uses, so its
 * topics, groups and Redis keys are its own. "test-<base-36 time>-<hex>": test/setup/stack.ts deletes the
 * keys of the namespaces a run made. Nothing is read from, or written to, the environment.
 */
export function testConfig(): HubConfig {
  return hubConfig({ namespace: `test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}` });
}

/**
 * The default hub's catalogue (medfund.*), one object for every unit test and helper, so a test can
 * compare an output's topic by identity. Unit tests touch no broker: no namespace of their own is needed.
 */
export const DEFAULT_TOPICS = topicsFor(hubConfig());
