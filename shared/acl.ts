import type { Service } from './runner/service.js';
import type { TopicSpec } from './topics.js';

/**
 * Who may do what, derived from the service catalogue (services/catalogue.ts), so the catalogue stays
 * the one source of truth: every service runs as its own principal (its name) that may read its input
 * topic with its own consumer group, write its outputs, its dead-letter topic and (a stateful service) its
 * changelog, and use transactional
 * ids that start with its group. Nothing else: the broker denies by default
 * (`allow.everyone.if.no.acl.found=false`) and only the admin principal is a super user.
 *
 * Two principals are not services: `ops` reads the dead-letter topics (`hub dead-letters list`), and the
 * disclosure process also runs the publisher, which reads and writes the disclosure topic (its chain).
 * Pure: `hub acl apply` creates exactly these, `hub acl list` prints them.
 */

export type ResourceType = 'TOPIC' | 'GROUP' | 'TRANSACTIONAL_ID';
export type PatternType = 'LITERAL' | 'PREFIXED';
export type Operation = 'READ' | 'WRITE' | 'DESCRIBE' | 'DELETE';

export interface KafkaAcl {
  /** `User:<name>`. */
  readonly principal: string;
  readonly resourceType: ResourceType;
  readonly patternType: PatternType;
  readonly resourceName: string;
  readonly operation: Operation;
  /** Always ALLOW: the authorizer denies whatever no ACL allows. */
  readonly why: string;
}

/** The principal that may read dead letters for operations staff. */
export const OPS_PRINCIPAL = 'ops';
/** The broker's super user: `hub topics create`, `hub acl apply`, the stack's own checks. */
export const ADMIN_PRINCIPAL = 'admin';
/** readTopic's consumer groups (shared/read-topic.ts) start with this. */
export const READER_GROUP_PREFIX = 'hub-reader-';

export interface AclCatalogue {
  /** The services of one namespace (servicesFor its topics): their topics carry its names. */
  readonly services: readonly Pick<
    Service<unknown>,
    'name' | 'input' | 'outputs' | 'deadLetters' | 'state'
  >[];
  /** The publisher's chain topic (topics.disclosure), written and read by the disclosure principal. */
  readonly disclosureTopic: Pick<TopicSpec, 'name'>;
  /** The namespace of the groups and transactional ids. */
  readonly namespace: string;
}

const user = (name: string) => `User:${name}`;

/**
 * The services whose state (Redis counters) the disclosure publisher reads: it may read, not write, their
 * keys, and DESCRIBE (not read) their input topics, whose partition counts lay those counters out.
 */
const DISCLOSURE_READS_STATE_OF = ['reconciler', 'hospital-reconciler'] as const;

export function kafkaAcls(catalogue: AclCatalogue): KafkaAcl[] {
  const { namespace } = catalogue;
  const acls: KafkaAcl[] = [];
  const allow = (
    principal: string,
    resourceType: ResourceType,
    patternType: PatternType,
    resourceName: string,
    operations: readonly Operation[],
    why: string,
  ) => {
    for (const operation of operations)
      acls.push({ principal: user(principal), resourceType, patternType, resourceName, operation, why });
  };
  for (const service of catalogue.services) {
    const group = `${namespace}.${service.name}`;
    allow(service.name, 'TOPIC', 'LITERAL', service.input.name, ['READ', 'DESCRIBE'], 'its input');
    allow(service.name, 'GROUP', 'LITERAL', group, ['READ', 'DESCRIBE'], 'its consumer group');
    for (const output of service.outputs)
      allow(service.name, 'TOPIC', 'LITERAL', output.name, ['WRITE', 'DESCRIBE'], 'its output');
    allow(
      service.name,
      'TOPIC',
      'LITERAL',
      service.deadLetters.name,
      ['WRITE', 'DESCRIBE'],
      'its refusals (dead letters)',
    );
    if (service.state)
      allow(
        service.name,
        'TOPIC',
        'LITERAL',
        service.state.changelog.name,
        ['WRITE', 'DESCRIBE'],
        'its state, in the transaction of each chunk (its changelog)',
      );
    allow(
      service.name,
      'TRANSACTIONAL_ID',
      'PREFIXED',
      `${group}-`,
      ['WRITE', 'DESCRIBE'],
      'its transactions: <group>-partition-<n>',
    );
  }
  const disclosure = catalogue.services.find((s) => s.name === 'disclosure');
  if (disclosure) {
    const chain = catalogue.disclosureTopic.name;
    allow('disclosure', 'TOPIC', 'LITERAL', chain, ['READ', 'WRITE', 'DESCRIBE'], 'the publisher: its chain');
    allow(
      'disclosure',
      'GROUP',
      'PREFIXED',
      `${namespace}.disclosure-chain-reader-`,
      ['READ', 'DESCRIBE', 'DELETE'],
      'the publisher: reads its chain back at start',
    );
    for (const owner of catalogue.services.filter((s) =>
      (DISCLOSURE_READS_STATE_OF as readonly string[]).includes(s.name),
    ))
      if (owner.input.name !== disclosure.input.name)
        allow(
          'disclosure',
          'TOPIC',
          'LITERAL',
          owner.input.name,
          ['DESCRIBE'],
          `the publisher: the partitions of ${owner.name}'s counters`,
        );
  }
  for (const service of catalogue.services)
    allow(
      OPS_PRINCIPAL,
      'TOPIC',
      'LITERAL',
      service.deadLetters.name,
      ['READ', 'DESCRIBE'],
      'operations: dead letters',
    );
  allow(
    OPS_PRINCIPAL,
    'GROUP',
    'PREFIXED',
    READER_GROUP_PREFIX,
    ['READ', 'DESCRIBE'],
    'operations: readTopic groups',
  );
  return acls;
}

/** Every principal the ACLs name, and the admin: the SCRAM users the stack creates. */
export function principals(services: readonly { readonly name: string }[]): string[] {
  return [ADMIN_PRINCIPAL, OPS_PRINCIPAL, ...services.map((s) => s.name)];
}

/** A fixed-width table of ACLs: principal, operation, resource, pattern, why. */
export function aclTable(acls: readonly KafkaAcl[]): string {
  const rows = [
    ['principal', 'operation', 'resource', 'pattern', 'why'],
    ...acls.map((a) => [
      a.principal,
      a.operation,
      `${a.resourceType}:${a.resourceName}`,
      a.patternType,
      a.why,
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

// ─── Redis ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * Redis ACL users, one per service: read and write only the keys it owns (shared/runner/partition-state.ts:
 * `<namespace>:<service>:{<service>.<partition>}:…`, in any namespace), read the keys it reads (the
 * disclosure publisher reads both reconcilers' counters), and none of the dangerous commands (FLUSHALL,
 * FLUSHDB, KEYS, CONFIG, DEBUG, SHUTDOWN, …). SCAN is refused too: it would list every key.
 * Every service also writes its own health announcement (shared/runner/announce.ts:
 * `<namespace>:<service>:health`, which `hub status` reads); a stateless service (the ingest services)
 * has no other key.
 */
export interface RedisUser {
  readonly name: string;
  readonly readWrite: readonly string[];
  readonly readOnly: readonly string[];
}

const ownKeys = (service: string) => `*:${service}:{${service}.*`;
const healthKeys = (service: string) => `*:${service}:health`;

export function redisUsers(
  services: readonly { readonly name: string; readonly state?: unknown }[],
): RedisUser[] {
  return services.map((service) => ({
    name: service.name,
    readWrite: [...(service.state === undefined ? [] : [ownKeys(service.name)]), healthKeys(service.name)],
    readOnly: service.name === 'disclosure' ? DISCLOSURE_READS_STATE_OF.map(ownKeys) : [],
  }));
}

/** Commands every service user may run: data, scripts (EVALSHA), connection; INFO for the client's ready check. */
const SERVICE_COMMANDS =
  '-@all +@read +@write +@scripting +@connection +@transaction -@dangerous -scan +info';

/**
 * One aclfile line per user. `passwords` holds each user's password; a password never contains a
 * space (the stack draws base64url).
 */
export function redisAclFile(
  users: readonly RedisUser[],
  passwords: Readonly<Record<string, string>>,
  admin = ADMIN_PRINCIPAL,
): string {
  const password = (name: string) => {
    const value = passwords[name];
    if (value === undefined || /\s/.test(value))
      throw new Error(`redis aclfile: no usable password for ${name}`);
    return value;
  };
  const lines = [
    'user default off resetkeys resetchannels -@all',
    `user ${admin} on >${password(admin)} ~* &* +@all`,
  ];
  for (const u of users) {
    const keys = [...u.readWrite.map((k) => `~${k}`), ...u.readOnly.map((k) => `%R~${k}`)];
    lines.push(
      [
        'user',
        u.name,
        'on',
        `>${password(u.name)}`,
        'resetkeys',
        ...keys,
        'resetchannels',
        SERVICE_COMMANDS,
      ].join(' '),
    );
  }
  return `${lines.join('\n')}\n`;
}
