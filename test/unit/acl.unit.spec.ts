import { describe, expect, it } from 'vitest';
import { hubAcls } from '../../services/hub-cli/acl.js';
import { kafkaAcls, redisAclFile, redisUsers } from '../../shared/acl.js';
import { hubConfig } from '../../shared/config.js';

// A hand-made catalogue in the shape of services/catalogue.ts, in namespace test-x (as servicesFor builds
// it from that namespace's topics): expected entries are written out by hand.
const topic = (name: string) => ({ name }) as never;
const services = [
  {
    name: 'premium-ingest',
    input: topic('test-x.tax.premium.v1'),
    outputs: [topic('test-x.fund.journal.v1')],
    deadLetters: topic('test-x.premium-ingest.dead-letter.v1'),
  },
  {
    name: 'hospital-reconciler',
    input: topic('test-x.reconciler.hospital-month.v1'),
    outputs: [topic('test-x.reconciliation.v1')],
    deadLetters: topic('test-x.hospital-reconciler.dead-letter.v1'),
  },
  {
    name: 'disclosure',
    input: topic('test-x.fund.ledger.v1'),
    outputs: [],
    deadLetters: topic('test-x.disclosure.dead-letter.v1'),
  },
];

const row = (a: {
  principal: string;
  operation: string;
  resourceType: string;
  resourceName: string;
  patternType: string;
}) => `${a.principal} ${a.operation} ${a.resourceType}:${a.resourceName} ${a.patternType}`;

describe('kafkaAcls', () => {
  const acls = kafkaAcls({
    services,
    disclosureTopic: topic('test-x.disclosure.v1'),
    namespace: 'test-x',
  }).map(row);

  it('gives each service its input, group, outputs, dead letters and transactional ids, in its namespace', () => {
    expect(acls.filter((a) => a.startsWith('User:premium-ingest '))).toEqual([
      'User:premium-ingest READ TOPIC:test-x.tax.premium.v1 LITERAL',
      'User:premium-ingest DESCRIBE TOPIC:test-x.tax.premium.v1 LITERAL',
      'User:premium-ingest READ GROUP:test-x.premium-ingest LITERAL',
      'User:premium-ingest DESCRIBE GROUP:test-x.premium-ingest LITERAL',
      'User:premium-ingest WRITE TOPIC:test-x.fund.journal.v1 LITERAL',
      'User:premium-ingest DESCRIBE TOPIC:test-x.fund.journal.v1 LITERAL',
      'User:premium-ingest WRITE TOPIC:test-x.premium-ingest.dead-letter.v1 LITERAL',
      'User:premium-ingest DESCRIBE TOPIC:test-x.premium-ingest.dead-letter.v1 LITERAL',
      'User:premium-ingest WRITE TRANSACTIONAL_ID:test-x.premium-ingest- PREFIXED',
      'User:premium-ingest DESCRIBE TRANSACTIONAL_ID:test-x.premium-ingest- PREFIXED',
    ]);
  });

  it('lets the disclosure principal read the ledger and its own chain, and no topic with a national ID', () => {
    const reads = acls.filter((a) => a.startsWith('User:disclosure READ TOPIC:'));
    expect(reads).toEqual([
      'User:disclosure READ TOPIC:test-x.fund.ledger.v1 LITERAL',
      'User:disclosure READ TOPIC:test-x.disclosure.v1 LITERAL',
    ]);
  });

  it("lets the disclosure principal describe, not read, the hospital stage's input (its counters' partitions)", () => {
    expect(acls.filter((a) => a.startsWith('User:disclosure') && a.includes('hospital-month'))).toEqual([
      'User:disclosure DESCRIBE TOPIC:test-x.reconciler.hospital-month.v1 LITERAL',
    ]);
  });

  it('are the catalogue services of the namespace the config names', () => {
    const fromCatalogue = hubAcls(hubConfig({ namespace: 'test-x' })).map(row);
    for (const acl of acls) expect(fromCatalogue).toContain(acl);
  });

  it('lets only the owner write, and only ops read, a dead-letter topic', () => {
    expect(
      acls.filter((a) => a.includes('TOPIC:test-x.premium-ingest.dead-letter.v1') && !a.includes('DESCRIBE')),
    ).toEqual([
      'User:premium-ingest WRITE TOPIC:test-x.premium-ingest.dead-letter.v1 LITERAL',
      'User:ops READ TOPIC:test-x.premium-ingest.dead-letter.v1 LITERAL',
    ]);
  });
});

describe('redisAclFile', () => {
  it('writes one user per service with its own keys and health announcement only, the admin, and the default user off', () => {
    const file = redisAclFile(
      redisUsers([
        { name: 'premium-ingest' },
        { name: 'accounting', state: {} },
        { name: 'disclosure', state: {} },
      ]),
      { admin: 'pa', 'premium-ingest': 'p1', accounting: 'p2', disclosure: 'p3' },
    );
    const rules = '-@all +@read +@write +@scripting +@connection +@transaction -@dangerous -scan +info';
    expect(file.split('\n')).toEqual([
      'user default off resetkeys resetchannels -@all',
      'user admin on >pa ~* &* +@all',
      `user premium-ingest on >p1 resetkeys ~*:premium-ingest:health resetchannels ${rules}`,
      `user accounting on >p2 resetkeys ~*:accounting:{accounting.* ~*:accounting:health resetchannels ${rules}`,
      `user disclosure on >p3 resetkeys ~*:disclosure:{disclosure.* ~*:disclosure:health %R~*:reconciler:{reconciler.* %R~*:hospital-reconciler:{hospital-reconciler.* resetchannels ${rules}`,
      '',
    ]);
  });
});
