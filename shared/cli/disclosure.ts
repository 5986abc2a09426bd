import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  chainsFrom,
  type DisclosureJson,
  FIGURE_FIELDS,
  figureText,
  keyIdOf,
  loadSigningKey,
  publicKeyFromPem,
  toDisclosureJson,
  verifyChain,
} from '../../services/disclosure/chain.js';
import { parsePeriod } from '../../services/disclosure/periods.js';
import { DisclosurePublisher, readDisclosureTopic } from '../../services/disclosure/publisher.js';
import { parseJsonFeed } from '../../services/disclosure/render/json.js';
import { FIELD_LABELS_ZH } from '../../services/disclosure/render/labels.js';
import { disclosureSettingsFromEnvironment } from '../../services/disclosure/settings.js';
import { loadEndpoints } from '../config.js';
import { ConfigError, HubError } from '../errors.js';
import { createKafka } from '../kafka.js';
import { createLogger } from '../logger.js';
import type { PublicDisclosure } from '../records.js';
import { createRegistry, TopicCodec } from '../registry.js';
import { TOPICS } from '../topics.js';

/**
 * `hub disclosure <subcommand>`: verify a published feed (anyone, no hub access needed), publish now,
 * show what is published, or make a signing key. Exit 0 on success, 1 when verification finds
 * problems or the hub fails, 2 on bad usage.
 */

const USAGE = `usage: hub disclosure <subcommand>

  verify  --file FEED.json | --url URL [--public-key KEY.pem]
          checks hashes, signatures, the chain links, sequences and corrections of a JSON feed
  publish [--region CODE] [--period LABEL]
          publishes changed figures now (an explicit --period is published even if it has not ended)
  show    --region CODE [--period LABEL] [--json]
          prints the latest published figures
  keygen  prints a new Ed25519 signing key (PKCS#8 PEM) for HUB_DISCLOSURE_SIGNING_KEY
`;

type Flags = Record<string, string | true>;

function parseFlags(args: readonly string[]): Flags {
  const flags: Flags = {};
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const name = arg.slice(2);
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) flags[name] = true;
    else {
      flags[name] = next;
      i += 1;
    }
  }
  return flags;
}

class UsageError extends Error {}

function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  if (value === true) throw new UsageError(`--${name} needs a value`);
  return value;
}

export async function runDisclosure(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  try {
    const flags = parseFlags(rest);
    switch (subcommand) {
      case 'verify':
        return await verify(flags);
      case 'publish':
        return await publish(flags);
      case 'show':
        return await show(flags);
      case 'keygen':
        return keygen();
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return subcommand === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown subcommand '${subcommand}'`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`hub disclosure: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}

async function fetchText(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new HubError(`cannot fetch ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new HubError(`GET ${url}: HTTP ${response.status}`);
  return response.text();
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new HubError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

async function verify(flags: Flags): Promise<number> {
  const file = stringFlag(flags, 'file');
  const url = stringFlag(flags, 'url');
  const keyFile = stringFlag(flags, 'public-key');
  if ((file === undefined) === (url === undefined))
    throw new UsageError('give exactly one of --file and --url');
  const text = file !== undefined ? readText(file) : await fetchText(url as string);
  let feed: ReturnType<typeof parseJsonFeed>;
  try {
    feed = parseJsonFeed(text);
  } catch (error) {
    process.stdout.write(`not a disclosure feed: ${(error as Error).message}\n`);
    return 1;
  }
  let keyPem: string;
  if (keyFile !== undefined) keyPem = readText(keyFile);
  else if (url !== undefined) keyPem = await fetchText(new URL('/public-key.pem', url).toString());
  else if (feed.publicKeyPem !== null) {
    keyPem = feed.publicKeyPem;
    process.stderr.write(
      'note: using the public key embedded in the feed: this proves the records are intact and chained, not who published them; pass --public-key to pin the publisher\n',
    );
  } else throw new UsageError('the feed carries no public key: pass --public-key');
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyFromPem(keyPem);
  } catch (error) {
    throw new ConfigError(`not an Ed25519 public key: ${(error as Error).message}`);
  }
  const problems = verifyChain(feed.disclosures as DisclosureJson[], publicKey);
  if (problems.length === 0) {
    process.stdout.write(`verified ${feed.disclosures.length} disclosures (key ${keyIdOf(publicKey)})\n`);
    return 0;
  }
  process.stdout.write(
    `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${feed.disclosures.length} disclosures:\n`,
  );
  for (const problem of problems) process.stdout.write(`  ${problem}\n`);
  return 1;
}

function describe(record: PublicDisclosure): string {
  const what =
    record.correction === 0
      ? 'published'
      : `correction ${record.correction} of #${record.supersedesSequence}`;
  const changes = record.changes.length > 0 ? `: ${record.changes.join('; ')}` : '';
  return `${record.regionCode} ${record.periodLabel} #${record.sequence} ${what}${changes}`;
}

async function publish(flags: Flags): Promise<number> {
  const region = stringFlag(flags, 'region');
  const period = stringFlag(flags, 'period');
  if (period !== undefined && region === undefined) throw new UsageError('--period needs --region');
  if (period !== undefined && parsePeriod(period) === undefined)
    throw new UsageError(`--period '${period}' is not "2025", "2025-Q1" or "2025-03"`);
  const settings = disclosureSettingsFromEnvironment();
  const publisher = await DisclosurePublisher.start({
    endpoints: loadEndpoints(),
    signingKey: loadSigningKey(),
    threshold: settings.minGroup,
    periods: settings.periods,
    logger: createLogger('hub-disclosure', process.env.LOG_LEVEL ?? 'warn'),
  });
  try {
    const published =
      region !== undefined && period !== undefined
        ? [await publisher.publish(region, period)].filter((r): r is PublicDisclosure => r !== null)
        : await publisher.publishAll(region === undefined ? undefined : [region]);
    if (published.length === 0) process.stdout.write('nothing changed: no disclosure published\n');
    for (const record of published) process.stdout.write(`${describe(record)}\n`);
    return 0;
  } finally {
    await publisher.stop();
  }
}

async function show(flags: Flags): Promise<number> {
  const region = stringFlag(flags, 'region');
  const period = stringFlag(flags, 'period');
  if (region === undefined) throw new UsageError('show needs --region');
  const endpoints = loadEndpoints();
  const log = createLogger('hub-disclosure', process.env.LOG_LEVEL ?? 'warn');
  const codec = new TopicCodec(createRegistry(endpoints), endpoints.schemaRegistryUrl);
  await codec.prepare([TOPICS.disclosure]);
  const records = await readDisclosureTopic(
    createKafka(endpoints, 'hub-disclosure-show', log),
    codec,
    TOPICS.disclosure,
    log,
  );
  const chain = chainsFrom(records).get(region);
  const latest =
    period === undefined
      ? (chain?.latestRecords() ?? [])
      : [chain?.latest(period)].filter((r) => r !== undefined);
  if (latest.length === 0) {
    process.stderr.write(
      `no disclosure published for ${region}${period === undefined ? '' : ` ${period}`}\n`,
    );
    return 1;
  }
  if (flags.json === true) {
    process.stdout.write(`${JSON.stringify(latest.map(toDisclosureJson), null, 2)}\n`);
    return 0;
  }
  for (const record of latest) {
    process.stdout.write(
      `${describe(record)} (published ${record.publishedAt.toISOString()}, hash ${record.hash})\n`,
    );
    for (const field of FIGURE_FIELDS) {
      const value = figureText(record, field);
      process.stdout.write(
        `  ${field.padEnd(28)} ${String(value ?? '—').padStart(20)}  ${FIELD_LABELS_ZH[field]}\n`,
      );
    }
  }
  return 0;
}

function keygen(): number {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  process.stdout.write(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  process.stderr.write(
    `key id ${keyIdOf(publicKey)}; public key (publish it):\n${publicKey.export({ format: 'pem', type: 'spki' }).toString()}`,
  );
  return 0;
}
