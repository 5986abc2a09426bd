import { randomBytes } from 'node:crypto';
import { principals, redisAclFile, redisUsers } from '../../shared/acl.js';

/**
 * What the credentials service of deploy/compose.yaml writes into the secrets volume, derived from the
 * service catalogue through shared/acl.ts, as deploy/local/secure.ts derives the local stack's:
 *   <principal>.password   one random password per principal (the SCRAM user and the Redis user)
 *   principals             the principals, one a line: kafka-init.sh formats the storage with these SCRAM users
 *   redis/users.acl        the Redis ACL users: default off, admin, one user per service
 * Pure: write-credentials.ts writes the files.
 */
export interface CredentialFile {
  /** Relative to the secrets directory. */
  readonly path: string;
  readonly content: string;
}

/** Base64url: nothing that needs quoting in a JAAS line, an aclfile, a URL or kafka-storage's --add-scram. */
export const newPassword = (): string => randomBytes(24).toString('base64url');

export function composeCredentials(
  services: readonly { readonly name: string; readonly state?: unknown }[],
  password: () => string = newPassword,
): CredentialFile[] {
  const names = principals(services);
  const passwords = Object.fromEntries(names.map((name) => [name, password()]));
  return [
    ...names.map((name) => ({ path: `${name}.password`, content: `${passwords[name]}\n` })),
    { path: 'redis/users.acl', content: redisAclFile(redisUsers(services), passwords) },
    // Last: write-credentials.ts takes its presence for "all written".
    { path: 'principals', content: `${names.join('\n')}\n` },
  ];
}
