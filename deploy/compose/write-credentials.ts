import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SERVICE_ROLES } from '../../services/catalogue.js';
import { composeCredentials } from './credentials.js';

/**
 * The credentials service of deploy/compose.yaml, in the hub's image as root:
 *   node dist/deploy/compose/write-credentials.js /secrets
 * Writes the files of credentials.ts (mode 0600, owned by the containers' user, HUB_SECRETS_OWNER,
 * default 1000:1000) unless the directory has them already: the storage was formatted with those
 * passwords, so new ones would lock every principal out (`docker compose down -v` starts afresh).
 * Prints the principals, never a password.
 */
const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: write-credentials.js <secrets directory>\n');
  process.exit(2);
}
const [uid, gid] = (process.env.HUB_SECRETS_OWNER ?? '1000:1000').split(':').map(Number);
if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
  process.stderr.write(`HUB_SECRETS_OWNER: '${process.env.HUB_SECRETS_OWNER}' is not <uid>:<gid>\n`);
  process.exit(2);
}
if (existsSync(join(dir, 'principals'))) {
  process.stdout.write(`credentials: kept those in ${dir}\n`);
  process.exit(0);
}
const files = composeCredentials(SERVICE_ROLES);
mkdirSync(dir, { recursive: true });
chmodSync(dir, 0o700);
for (const file of files) {
  const path = join(dir, file.path);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, file.content, { mode: 0o600 });
}
// Only root may give files away; run as the owner already, there is nothing to change.
if (process.getuid?.() === 0)
  for (const path of [dir, join(dir, 'redis'), ...files.map((f) => join(dir, f.path))])
    chownSync(path, uid as number, gid as number);
process.stdout.write(
  `credentials: written to ${dir} for ${files.filter((f) => f.path.endsWith('.password')).length} principals\n`,
);
