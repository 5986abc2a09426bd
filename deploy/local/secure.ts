import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { principals, redisAclFile, redisUsers } from '../../shared/acl.js';
import { type Endpoints, endpointsFromEnvironment } from '../../shared/config.js';
import { StackError } from './errors.js';

/**
 * What a secured local stack (`stack:up`, the default) generates into its directory, and the broker
 * settings that use it:
 *   secrets/ca.pem, ca.key          a CA made for this stack only (30 days)
 *   secrets/broker.pem, broker.key  the broker's (and Redis's) certificate, for 127.0.0.1 and localhost
 *   secrets/broker.p12              the same as the broker's PKCS#12 keystore
 *   secrets/<principal>.password    one SCRAM (and Redis) password per principal, mode 0600
 *   redis/users.acl                 the Redis ACL users (shared/acl.ts)
 * Nothing here leaves the stack directory, and `stack:down` deletes it.
 */
export interface StackSecrets {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly keystoreFile: string;
  readonly keystorePassword: string;
  readonly passwords: Readonly<Record<string, string>>;
  readonly aclFile: string;
}

export const secretsDir = (stateDir: string) => join(stateDir, 'secrets');
export const passwordFile = (stateDir: string, principal: string) =>
  join(secretsDir(stateDir), `${principal}.password`);

/**
 * The environment of a process that runs as `principal` on a stack: the endpoints, and on a secured stack
 * (`secrets`: its secrets directory) the principal's name, the paths of its password and of the CA, and
 * REDIS_URL naming its Redis user. Paths only, never a secret. A plain stack gets the endpoints alone.
 */
export function principalEnvironment(
  endpoints: Endpoints,
  secrets: string | undefined,
  principal: string,
): Record<string, string> {
  const plain = {
    KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    REDIS_URL: endpoints.redisUrl,
  };
  if (secrets === undefined || endpoints.security?.kafka === undefined) return plain;
  const redisUrl = new URL(endpoints.redisUrl);
  redisUrl.username = principal;
  redisUrl.password = '';
  const password = join(secrets, `${principal}.password`);
  return {
    ...plain,
    REDIS_URL: redisUrl.toString(),
    HUB_KAFKA_USERNAME: principal,
    HUB_KAFKA_PASSWORD_FILE: password,
    HUB_KAFKA_CA_FILE: join(secrets, 'ca.pem'),
    HUB_REDIS_PASSWORD_FILE: password,
  };
}

/** The endpoints as `principal` sees them (its credentials read from `secrets`), parsed as a service parses them. */
export function endpointsAs(endpoints: Endpoints, secrets: string | undefined, principal: string): Endpoints {
  const parsed = endpointsFromEnvironment(principalEnvironment(endpoints, secrets, principal));
  if (parsed === undefined) throw new StackError('no endpoints');
  return parsed;
}

/** A password without characters that need quoting in a JAAS line, an aclfile or a URL. */
const newPassword = () => randomBytes(24).toString('base64url');

export function generateStackSecrets(
  stateDir: string,
  services: readonly { readonly name: string; readonly state?: unknown }[],
): StackSecrets {
  const dir = secretsDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'broker.key');
  const csr = join(dir, 'broker.csr');
  const certFile = join(dir, 'broker.pem');
  const ext = join(dir, 'broker.ext');
  const keystoreFile = join(dir, 'broker.p12');
  const keystorePassword = newPassword();
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '30',
    '-subj',
    '/CN=medfund-hub local stack CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    csr,
    '-subj',
    '/CN=localhost',
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    caFile,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    certFile,
    '-days',
    '30',
    '-extfile',
    ext,
  ]);
  openssl([
    'pkcs12',
    '-export',
    '-in',
    certFile,
    '-inkey',
    keyFile,
    '-certfile',
    caFile,
    '-name',
    'broker',
    '-out',
    keystoreFile,
    '-passout',
    `pass:${keystorePassword}`,
  ]);
  const passwords: Record<string, string> = {};
  for (const principal of principals(services)) {
    passwords[principal] = newPassword();
    writeFileSync(passwordFile(stateDir, principal), `${passwords[principal]}\n`, { mode: 0o600 });
  }
  for (const file of [caKey, keyFile, keystoreFile]) chmodSync(file, 0o600);
  const redisDir = join(stateDir, 'redis');
  mkdirSync(redisDir, { recursive: true, mode: 0o700 });
  const aclFile = join(redisDir, 'users.acl');
  writeFileSync(aclFile, redisAclFile(redisUsers(services), passwords), { mode: 0o600 });
  return { dir, caFile, certFile, keyFile, keystoreFile, keystorePassword, passwords, aclFile };
}

export function readPassword(stateDir: string, principal: string): string {
  const file = passwordFile(stateDir, principal);
  if (!existsSync(file)) throw new StackError(`no password for ${principal} in ${secretsDir(stateDir)}`);
  return readFileSync(file, 'utf8').trim();
}

function openssl(args: string[]): void {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (run.error)
    throw new StackError('a secured stack needs openssl to make its certificates (apt-get install openssl)');
  if (run.status !== 0)
    throw new StackError(`openssl ${args[0]} failed: ${run.stderr.trim().split('\n').pop()}`);
}

/** `kafka-storage format` arguments that create every principal's SCRAM-SHA-512 credential. */
export function scramFormatArguments(secrets: StackSecrets): string[] {
  return Object.entries(secrets.passwords).flatMap(([name, password]) => [
    '--add-scram',
    `SCRAM-SHA-512=[name=${name},password=${password}]`,
  ]);
}

/**
 * Appended to a node's server.properties (a later key wins): clients on SASL_SSL with SCRAM-SHA-512,
 * the controller listener on SASL_PLAINTEXT with PLAIN (KRaft cannot use SCRAM there: the credentials
 * live in the metadata log the controller serves), loopback only; the StandardAuthorizer denies what
 * no ACL allows; the admin principal is the only super user (brokers and controllers act as it).
 */
export function secureBrokerProperties(
  ports: { broker: number; controller: number },
  secrets: StackSecrets,
  admin: string,
): string {
  const password = secrets.passwords[admin];
  if (password === undefined) throw new StackError(`no password for ${admin}`);
  return `
# Secured (stack:up, the default), generated by deploy/local/secure.ts
listeners=SASL_SSL://127.0.0.1:${ports.broker},CONTROLLER://127.0.0.1:${ports.controller}
advertised.listeners=SASL_SSL://127.0.0.1:${ports.broker}
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin}" password="${password}";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin}" password="${password}" user_${admin}="${password}";
ssl.keystore.type=PKCS12
ssl.keystore.location=${secrets.keystoreFile}
ssl.keystore.password=${secrets.keystorePassword}
ssl.truststore.type=PEM
ssl.truststore.location=${secrets.caFile}
ssl.client.auth=none
ssl.endpoint.identification.algorithm=https
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:${admin}
`;
}

/** redis-server arguments: TLS only (no plaintext port), the ACL users, loopback. */
export function secureRedisArguments(port: number, secrets: StackSecrets): string[] {
  return [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--tls-cert-file',
    secrets.certFile,
    '--tls-key-file',
    secrets.keyFile,
    '--tls-ca-cert-file',
    secrets.caFile,
    '--tls-auth-clients',
    'no',
    '--aclfile',
    secrets.aclFile,
  ];
}
