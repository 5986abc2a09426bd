import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeCredentials } from '../../../deploy/compose/credentials.js';
import { DEFAULT_KAFKA_VERSION, DEFAULT_REGISTRY_VERSION } from '../../../deploy/local/launcher.js';
import { type StackSecrets, secureBrokerProperties } from '../../../deploy/local/secure.js';
import { SERVICE_ROLES } from '../../../services/catalogue.js';
import { REPO_ROOT } from '../../../shared/config.js';
import { parseComposeYaml, type YamlValue } from './compose-yaml.js';

/**
 * deploy/compose.yaml carries the secured settings of the local stack (issue 10, item 5). No Docker daemon
 * runs here, so this reads the committed files instead of running them: the compose file, the broker
 * configuration it starts Kafka with (deploy/compose/kafka/server.properties), the init script that adds
 * the secrets and formats the storage, and the credentials its init service generates.
 */

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

type Mapping = { [key: string]: YamlValue };
const isMapping = (value: YamlValue | undefined): value is Mapping =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const mappingOf = (value: YamlValue | undefined, what: string): Mapping => {
  if (!isMapping(value)) throw new Error(`${what} is not a mapping`);
  return value;
};
const stringsOf = (value: YamlValue | undefined, what: string): string[] => {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new Error(`${what} is not a list of strings`);
  return value as string[];
};

const compose = mappingOf(parseComposeYaml(read('deploy/compose.yaml')), 'compose.yaml');
const services = mappingOf(compose.services, 'services');
const service = (name: string) => mappingOf(services[name], `service ${name}`);
const environment = (name: string) => mappingOf(service(name).environment, `${name}'s environment`);
const volumes = (name: string) => stringsOf(service(name).volumes ?? [], `${name}'s volumes`);
const dependsOn = (name: string) => mappingOf(service(name).depends_on, `${name}'s depends_on`);

/** key=value lines; a later key wins, as in Kafka's own reading. */
function properties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    map.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return map;
}
const broker = properties(read('deploy/compose/kafka/server.properties'));
const setting = (key: string) => broker.get(key) ?? '(not set)';
/** `NAME://host:port,…` as [name, host, port]. */
const listeners = (value: string) =>
  value.split(',').map((l) => {
    const match = /^([A-Z_]+):\/\/([^:]*):(\d+)$/.exec(l.trim());
    if (!match) throw new Error(`not a listener: ${l}`);
    return { name: match[1] as string, host: match[2] as string, port: match[3] as string };
  });
const protocolOf = new Map(
  setting('listener.security.protocol.map')
    .split(',')
    .map((pair) => pair.split(':') as [string, string]),
);
const initScript = read('deploy/compose/kafka-init.sh');

// The independent oracle: every service of services/catalogue.ts, the operations principal and the admin.
const PRINCIPALS = [
  'admin',
  'ops',
  'premium-ingest',
  'settlement-ingest',
  'payout-ingest',
  'accounting',
  'reconciler',
  'hospital-reconciler',
  'disclosure',
];

describe('deploy/compose.yaml, secured', () => {
  it('publishes every port on 127.0.0.1 only, and of Kafka only the client listener', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      stringsOf(mappingOf(s, name).ports ?? [], `${name}'s ports`).map((port) => ({ name, port })),
    );
    expect(published.map((p) => p.name).sort()).toEqual(['kafka', 'redis', 'registry']);
    expect(published.filter((p) => !/^127\.0\.0\.1:\d+:\d+$/.test(p.port))).toEqual([]);
    const client = listeners(setting('listeners')).find((l) => l.name === 'CLIENT');
    expect(service('kafka').ports).toEqual([`127.0.0.1:${client?.port}:${client?.port}`]);
  });

  it('has no PLAINTEXT listener: clients on SASL_SSL, the controller inside the container', () => {
    const controller = setting('controller.listener.names');
    for (const l of listeners(setting('listeners'))) {
      if (l.name === controller) {
        expect(protocolOf.get(l.name)).toBe('SASL_PLAINTEXT');
        expect(l.host).toBe('localhost');
      } else
        expect({ listener: l.name, protocol: protocolOf.get(l.name) }).toEqual({
          listener: l.name,
          protocol: 'SASL_SSL',
        });
    }
    expect([...protocolOf.values()].filter((p) => p === 'PLAINTEXT' || p === 'SSL')).toEqual([]);
    const advertised = listeners(setting('advertised.listeners'));
    expect(advertised.map((l) => protocolOf.get(l.name))).toEqual(advertised.map(() => 'SASL_SSL'));
    expect(protocolOf.get(setting('inter.broker.listener.name'))).toBe('SASL_SSL');
  });

  it('denies what no ACL allows, with admin the only super user, and SCRAM-SHA-512 for clients', () => {
    expect(setting('authorizer.class.name')).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(setting('allow.everyone.if.no.acl.found')).toBe('false');
    expect(setting('super.users')).toBe('User:admin');
    expect(setting('sasl.enabled.mechanisms')).toBe('SCRAM-SHA-512');
    for (const l of listeners(setting('listeners')).filter((l) => protocolOf.get(l.name) === 'SASL_SSL'))
      expect(setting(`listener.name.${l.name.toLowerCase()}.sasl.enabled.mechanisms`)).toBe('SCRAM-SHA-512');
  });

  it("carries the local stack's security settings (deploy/local/secure.ts) value for value", () => {
    const secrets: StackSecrets = {
      dir: '/s',
      caFile: '/s/ca.pem',
      certFile: '/s/broker.pem',
      keyFile: '/s/broker.key',
      keystoreFile: '/s/broker.p12',
      keystorePassword: 'k',
      passwords: { admin: 'a' },
      aclFile: '/s/users.acl',
    };
    const local = properties(secureBrokerProperties({ broker: 9092, controller: 9093 }, secrets, 'admin'));
    // Where the two differ by design: the compose broker has two SASL_SSL listeners (the host's and the
    // compose network's) where the local one has one, its own paths, and its secrets appended at start.
    const byDesign = (key: string) =>
      /^(listeners|advertised\.listeners|listener\.security\.protocol\.map|inter\.broker\.listener\.name)$/.test(
        key,
      ) ||
      key.startsWith('listener.name.sasl_ssl.') ||
      key.endsWith('.location') ||
      key.endsWith('.password') ||
      key.endsWith('.jaas.config');
    const shared = [...local.keys()].filter((key) => !byDesign(key));
    expect(shared.length).toBeGreaterThanOrEqual(10);
    expect(Object.fromEntries(shared.map((key) => [key, setting(key)]))).toEqual(
      Object.fromEntries(shared.map((key) => [key, local.get(key)])),
    );
    // The local stack's listener settings hold for each of the compose broker's SASL_SSL listeners.
    for (const name of ['client', 'internal'])
      expect(setting(`listener.name.${name}.sasl.enabled.mechanisms`)).toBe(
        local.get('listener.name.sasl_ssl.sasl.enabled.mechanisms'),
      );
  });

  it('keeps no secret in the committed files: the init script adds them in the secrets volume', () => {
    expect([...broker.keys()].filter((k) => /password|jaas/.test(k))).toEqual([]);
    const variables = Object.keys(services).flatMap((name) =>
      Object.keys(isMapping(service(name).environment) ? environment(name) : {}),
    );
    // Secrets are handed over as files: a *_PASSWORD variable would put one in the compose file.
    expect(variables.filter((v) => /PASSWORD$|SECRET|_KEY$/.test(v))).toEqual([]);
    expect(read('deploy/compose.yaml')).not.toMatch(/requirepass|sasl\.jaas\.config|password=/);
    for (const appended of [
      'ssl.keystore.password=',
      'listener.name.client.scram-sha-512.sasl.jaas.config=',
      'listener.name.internal.scram-sha-512.sasl.jaas.config=',
      'listener.name.controller.plain.sasl.jaas.config=',
    ])
      expect(initScript).toContain(appended);
  });

  it("formats the storage with every principal's SCRAM credential before the broker starts", () => {
    expect(dependsOn('kafka-init')).toEqual({ credentials: { condition: 'service_completed_successfully' } });
    expect(dependsOn('kafka')).toEqual({ 'kafka-init': { condition: 'service_completed_successfully' } });
    expect(service('kafka-init').entrypoint).toEqual(['/bin/sh', '/compose/kafka-init.sh']);
    expect(volumes('kafka-init')).toEqual(
      expect.arrayContaining([
        'secrets:/secrets',
        './compose:/compose:ro',
        `kafka-data:${setting('log.dirs')}`,
      ]),
    );
    expect(volumes('kafka')).toContain(`kafka-data:${setting('log.dirs')}`);
    expect(service('kafka').command).toEqual([
      '/opt/kafka/bin/kafka-server-start.sh',
      '/secrets/kafka/server.properties',
    ]);
    expect(initScript).toMatch(/kafka-storage\.sh" format .*"\$@"/);
    expect(initScript).toContain('--add-scram "SCRAM-SHA-512=[name=$principal,password=');
    expect(initScript).toContain('done <"$SECRETS/principals"');
    expect(initScript).toMatch(/^TEMPLATE=\$\{TEMPLATE:-\/compose\/kafka\/server\.properties\}$/m);
  });

  it('generates a user for every catalogue service, ops and admin: the SCRAM users and the Redis users', () => {
    let n = 0;
    const files = composeCredentials(SERVICE_ROLES, () => `password-${++n}`);
    const content = (path: string) => files.find((f) => f.path === path)?.content ?? '';
    // The principals file is the list kafka-init.sh formats the storage with.
    expect(content('principals').trim().split('\n').sort()).toEqual([...PRINCIPALS].sort());
    for (const principal of PRINCIPALS) expect(content(`${principal}.password`)).toMatch(/^password-\d+\n$/);
    const acl = content('redis/users.acl').trim().split('\n');
    const users = acl.map((line) => line.split(' ')[1]);
    expect(users.sort()).toEqual(['default', ...PRINCIPALS.filter((p) => p !== 'ops')].sort());
    expect(acl.filter((line) => line.startsWith('user default '))).toEqual([
      'user default off resetkeys resetchannels -@all',
    ]);
    expect(service('credentials').command).toEqual(['dist/deploy/compose/write-credentials.js', '/secrets']);
  });

  it('runs Redis with TLS only, the generated ACL users and no default user', () => {
    const args = stringsOf(service('redis').command, "redis's command");
    const option = (name: string) => {
      const i = args.indexOf(name);
      return i < 0 ? undefined : args[i + 1];
    };
    expect(args[0]).toBe('redis-server');
    expect(option('--port')).toBe('0');
    expect(service('redis').ports).toEqual([`127.0.0.1:${option('--tls-port')}:${option('--tls-port')}`]);
    for (const file of ['--tls-cert-file', '--tls-key-file', '--tls-ca-cert-file'])
      expect(option(file)).toMatch(/^\/secrets\//);
    expect(option('--aclfile')).toBe('/secrets/redis/users.acl');
    expect(args).not.toContain('--requirepass');
    expect(volumes('redis')).toContain('secrets:/secrets:ro');
  });

  it('applies the ACLs as admin once the broker is healthy, over the compose network listener', () => {
    expect(service('acl').command).toEqual(['dist/services/hub-cli/main.js', 'acl', 'apply']);
    expect(dependsOn('acl')).toEqual({ kafka: { condition: 'service_healthy' } });
    const internal = listeners(setting('advertised.listeners')).find((l) => l.name === 'INTERNAL');
    expect(environment('acl')).toMatchObject({
      KAFKA_BROKERS: `${internal?.host}:${internal?.port}`,
      HUB_KAFKA_USERNAME: 'admin',
      HUB_KAFKA_PASSWORD_FILE: '/secrets/admin.password',
      HUB_KAFKA_CA_FILE: '/secrets/ca.pem',
      REDIS_URL: expect.stringMatching(/^rediss:\/\/admin@/),
    });
    // Healthy means groups work (the local stack waits for that too): the coordinator's topic exists.
    const health = stringsOf(mappingOf(service('kafka').healthcheck, 'healthcheck').test, 'test')[1];
    expect(health).toContain(
      `--bootstrap-server ${internal?.host}:${internal?.port} --command-config /secrets/kafka/admin-client.properties --describe --topic __consumer_offsets`,
    );
  });

  it('hands the secrets to one user: the containers that read them run as the owner the inits give them to', () => {
    const readers = Object.keys(services).filter(
      (name) => volumes(name).some((v) => v.startsWith('secrets:')) && service(name).user !== '0:0',
    );
    expect(readers.sort()).toEqual(['acl', 'kafka', 'redis']);
    for (const name of readers) expect(service(name).user).toBe('1000:1000');
    expect(initScript).toMatch(/^OWNER=\$\{OWNER:-1000:1000\}$/m);
    expect(read('deploy/compose/write-credentials.ts')).toContain("HUB_SECRETS_OWNER ?? '1000:1000'");
  });

  it('runs the versions deploy/local fetches', () => {
    expect(service('kafka').image).toBe(`apache/kafka:${DEFAULT_KAFKA_VERSION}`);
    expect(service('kafka-init').image).toBe(`apache/kafka:${DEFAULT_KAFKA_VERSION}`);
    expect(service('registry').image).toBe(`apicurio/apicurio-registry:${DEFAULT_REGISTRY_VERSION}`);
  });
});

describe('the YAML subset compose-yaml.ts reads', () => {
  it('reads mappings, sequences, flows, quotes and comments', () => {
    expect(
      parseComposeYaml(
        [
          'a: 1 # a comment',
          'b:',
          '  - x',
          '  - "y # not a comment"',
          '  - k: v',
          '    l: [p, "q, r", \'s\']',
          'c:',
          '- 127.0.0.1:1:2',
          'd:',
        ].join('\n'),
      ),
    ).toEqual({
      a: '1',
      b: ['x', 'y # not a comment', { k: 'v', l: ['p', 'q, r', 's'] }],
      c: ['127.0.0.1:1:2'],
      d: null,
    });
  });

  it.each([
    ['an anchor', 'a: &x 1'],
    ['a block scalar', 'a: |\n  text'],
    ['a flow over two lines', 'a: [1,\n  2]'],
    ['a key twice', 'a: 1\na: 2'],
    ['a tab', 'a:\n\t- 1'],
    ['a stray indentation', 'a: 1\n  b: 2'],
  ])('refuses %s', (_, text) => {
    expect(() => parseComposeYaml(text)).toThrow();
  });
});
