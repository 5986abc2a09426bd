import { defineConfig } from 'vitest/config';
import { TEST_ONLY_DISCLOSURE_SIGNING_KEY_PEM } from './services/disclosure/chain.js';
import { TEST_ONLY_PSEUDONYM_KEY } from './shared/identity.js';

// Tests give the hub its secrets the way an operator does, as environment variables; nothing in
// the code switches keys on VITEST or NODE_ENV. Projects do not inherit top-level options.
const TEST_KEYS = { HUB_PSEUDONYM_KEY: TEST_ONLY_PSEUDONYM_KEY.toString('hex') };

// Three kinds of test, selected by file name: *.unit.spec.ts are pure and need no I/O;
// *.int.spec.ts talk to a real Kafka, schema registry and Redis resolved by test/setup/stack.ts;
// *.browser.spec.ts serve pages on localhost to Debian's Chromium and need no Kafka stack.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.unit.spec.ts', 'services/**/*.unit.spec.ts', 'shared/**/*.unit.spec.ts'],
          environment: 'node',
          env: TEST_KEYS,
          // Property tests run thousands of cases; on two busy cores 5 s (the default) is too tight a guard.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int.spec.ts'],
          environment: 'node',
          globalSetup: ['test/setup/stack.ts'],
          // The services these tests start sign with the public test key, given like any other key.
          env: { ...TEST_KEYS, HUB_DISCLOSURE_SIGNING_KEY: TEST_ONLY_DISCLOSURE_SIGNING_KEY_PEM },
          // One broker, one registry and two cores: files run one at a time.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.browser.spec.ts'],
          environment: 'node',
          env: TEST_KEYS,
          // One Chromium at a time on two shared cores.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
