import type { Command } from 'commander';
import kafkajs, { type AclEntry, type Admin } from 'kafkajs';
import { aclTable, type KafkaAcl, kafkaAcls } from '../../shared/acl.js';
import { type HubConfig, loadEndpoints } from '../../shared/config.js';
import { createKafka } from '../../shared/kafka.js';
import { createLogger } from '../../shared/logger.js';
import { topicsFor } from '../../shared/topics.js';
import { servicesFor } from '../catalogue.js';
import { EXIT, exitWith } from './options.js';

// kafkajs is CommonJS: its enums come with the default export (Node cannot see them as named exports).
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/**
 * The ACLs of this hub's namespace, from the catalogue. Without a config, HUB_NAMESPACE's: only
 * deploy/local/demo.ts still calls it so (deprecated), until it builds its HubConfig once.
 */
export function hubAcls(config: HubConfig): KafkaAcl[] {
  const topics = topicsFor(config);
  return kafkaAcls({
    services: servicesFor(topics),
    disclosureTopic: topics.disclosure,
    namespace: config.namespace,
  });
}

export function registerAcl(program: Command, config: HubConfig): void {
  const acl = program
    .command('acl')
    .description("each service's Kafka ACLs, derived from the service catalogue (a secured stack)");
  acl
    .command('apply')
    .description('create the ACLs of this namespace on the broker (idempotent; needs the admin principal)')
    .action(
      exitWith(() =>
        withAdmin(async (admin) => {
          const acls = hubAcls(config);
          await applyAcls(admin, acls);
          process.stdout.write(`applied ${acls.length} ACLs for namespace ${config.namespace}\n`);
          return EXIT.done;
        }),
      ),
    );
  acl
    .command('list')
    .description('print the ACLs of this namespace as a table (--broker: as the broker holds them)')
    .option('--broker', 'read them from the broker instead of deriving them')
    .action(
      exitWith(async (options: { broker?: boolean }) => {
        if (!options.broker) {
          process.stdout.write(`${aclTable(hubAcls(config))}\n`);
          return EXIT.done;
        }
        return withAdmin(async (admin) => {
          process.stdout.write(`${aclTable(await brokerAcls(admin))}\n`);
          return EXIT.done;
        });
      }),
    );
}

async function withAdmin(run: (admin: Admin) => Promise<number>): Promise<number> {
  const kafka = createKafka(loadEndpoints(), 'hub-cli', createLogger('hub-cli', 'error'));
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.disconnect();
  }
}

export function aclEntry(acl: KafkaAcl): AclEntry {
  return {
    principal: acl.principal,
    host: '*',
    operation: AclOperationTypes[acl.operation],
    permissionType: AclPermissionTypes.ALLOW,
    resourceType: AclResourceTypes[acl.resourceType],
    resourceName: acl.resourceName,
    resourcePatternType: ResourcePatternTypes[acl.patternType],
  };
}

/**
 * Creating an ACL the broker already holds changes nothing, so applying twice is applying once. Returns
 * once the broker describes every one of them: its authorizer learns new ACLs from the metadata log a
 * moment after createAcls answers, and a service started before then would be denied.
 */
export async function applyAcls(admin: Admin, acls: readonly KafkaAcl[], timeoutMs = 30_000): Promise<void> {
  if (acls.length === 0) return;
  await admin.createAcls({ acl: acls.map(aclEntry) });
  const key = (
    a: Pick<KafkaAcl, 'principal' | 'resourceType' | 'patternType' | 'resourceName' | 'operation'>,
  ) => [a.principal, a.resourceType, a.patternType, a.resourceName, a.operation].join(' ');
  const wanted = new Set(acls.map(key));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const held = new Set((await brokerAcls(admin)).map(key));
    const missing = [...wanted].filter((k) => !held.has(k));
    if (missing.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `the broker does not show ${missing.length} ACLs after ${timeoutMs} ms, e.g. ${missing[0]}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every ALLOW ACL the broker holds, as KafkaAcl rows (why: "on the broker"). */
export async function brokerAcls(admin: Admin): Promise<KafkaAcl[]> {
  const described = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  const name = <E extends Record<string, string | number>>(e: E, v: number) =>
    (Object.entries(e).find(([, x]) => x === v)?.[0] ?? String(v)) as never;
  return described.resources.flatMap((r) =>
    r.acls.map((a) => ({
      principal: a.principal,
      resourceType: name(AclResourceTypes, r.resourceType),
      patternType: name(ResourcePatternTypes, r.resourcePatternType),
      resourceName: r.resourceName,
      operation: name(AclOperationTypes, a.operation),
      why: a.permissionType === AclPermissionTypes.ALLOW ? 'on the broker' : 'on the broker (DENY)',
    })),
  );
}
