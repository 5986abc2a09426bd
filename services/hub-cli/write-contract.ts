import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { asyncApiDocument, CONTRACT_FILE } from './contract.js';

/**
 * `npm run contract`: writes schemas/asyncapi.json from the topic catalogue and the schemas, formatted as
 * `npm run lint` wants it. `npm run contract -- --check` writes nothing and exits 1 when the file is stale.
 */

const BIOME = fileURLToPath(new URL('../../node_modules/.bin/biome', import.meta.url));

function formatted(json: string): string {
  // Biome formats JSON files too; the committed document is kept the way it formats it.
  const run = spawnSync(BIOME, ['format', `--stdin-file-path=${CONTRACT_FILE}`], {
    input: json,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`biome format failed: ${run.stderr}`);
  return run.stdout;
}

const text = formatted(`${JSON.stringify(asyncApiDocument(), null, 2)}\n`);
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(CONTRACT_FILE, 'utf8');
  } catch {
    // missing: stale
  }
  if (committed !== text) {
    process.stderr.write(
      `contract: ${CONTRACT_FILE} is not what the catalogue and schemas give now: run \`npm run contract\`\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`contract: ${CONTRACT_FILE} is up to date\n`);
} else {
  writeFileSync(CONTRACT_FILE, text);
  process.stdout.write(`contract: wrote ${CONTRACT_FILE}\n`);
}
