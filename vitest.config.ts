import { defineConfig } from 'vitest/config';

// Two kinds of test, selected by file name (style.md): *.unit.spec.ts are pure and need no I/O;
// *.int.spec.ts talk to a real Kafka, schema registry and Redis resolved by test/setup/stack.ts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.unit.spec.ts', 'services/**/*.unit.spec.ts', 'shared/**/*.unit.spec.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int.spec.ts'],
          environment: 'node',
          globalSetup: ['test/setup/stack.ts'],
          // One broker, one registry and two cores: files run one at a time.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
