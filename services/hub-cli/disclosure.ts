import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type HubConfig, loadEndpoints } from '../../shared/config.js';
import { ConfigError, HubError } from '../../shared/errors.js';
import { createKafka } from '../../shared/kafka.js';
import { createLogger } from '../../shared/logger.js';
import type { PublicDisclosure } from '../../shared/records.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { topicsFor } from '../../shared/topics.js';
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
} from '../disclosure/chain.js';
import { parsePeriod } from '../disclosure/periods.js';
import { DisclosurePublisher, readDisclosureTopic } from '../disclosure/publisher.js';
import { parseJsonFeed } from '../disclosure/render/json.js';
import { FIELD_LABELS_ZH } from '../disclosure/render/labels.js';
import { disclosureSettingsFromEnvironment } from '../disclosure/settings.js';
import { EXIT, exitWith, regionOption, UsageError } from './options.js';

/**
 * `hub disclosure <subcommand>`: verify a published feed (anyone, no hub access needed), publish now,
 * show what is published, or make a signing key. Exit 0 on success, 1 when verification finds
 * problems, nothing is published for the period or the hub fails, 2 on bad usage.
 */

interface VerifyOptions {
  readonly file?: string;
  readonly url?: string;
  readonly publicKey?: string;
}

interface PeriodOptions {
  readonly region?: string;
  readonly period?: string;
  readonly json?: boolean;
}

function periodLabel(text: string): string {
  if (parsePeriod(text) === undefined) {
    throw new InvalidArgumentError('Expected a year, a quarter or a month: "2025", "2025-Q1" or "2025-03"');
  }
  return text;
}

function httpUrl(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new InvalidArgumentError('Expected an http(s) URL such as http://127.0.0.1:8088/disclosures.json');
  }
  return text;
}

const periodOption = (what: string) =>
  new Option('--period <label>', `${what}: "2025", "2025-Q1" or "2025-03"`).argParser(periodLabel);

export function registerDisclosure(program: Command, config: HubConfig): void {
  const disclosure = program.command('disclosure').description('publish, show and verify public disclosures');
  disclosure
    .command('verify')
    .description('check the hashes, signatures, chain links, sequences and corrections of a JSON feed')
    .option('--file <feed.json>', 'a feed saved to a file')
    .addOption(
      new Option('--url <url>', 'a feed served over HTTP (its /public-key.pem is fetched too)').argParser(
        httpUrl,
      ),
    )
    .option('--public-key <key.pem>', "the publisher's Ed25519 public key (PEM), to pin who published")
    .action(exitWith(verify));
  disclosure
    .command('publish')
    .description('publish changed figures now (an explicit --period is published even if it has not ended)')
    .addOption(regionOption('only this region'))
    .addOption(periodOption('only this period (needs --region)'))
    .action(exitWith((options: PeriodOptions) => publish(config, options)));
  disclosure
    .command('show')
    .description('print the latest published figures of a region')
    .addOption(regionOption('the region').makeOptionMandatory())
    .addOption(periodOption('only this period'))
    .option('--json', 'print the records as JSON')
    .action(exitWith((options: PeriodOptions) => show(config, options)));
  disclosure
    .command('keygen')
    .description(
      'print a new Ed25519 signing key (PKCS#8 PEM) for HUB_DISCLOSURE_SIGNING_KEY; its public key on stderr',
    )
    .action(exitWith(keygen));
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

async function verify(options: VerifyOptions): Promise<number> {
  const { file, url, publicKey: keyFile } = options;
  if ((file === undefined) === (url === undefined))
    throw new UsageError('give exactly one of --file and --url');
  const text = file !== undefined ? readText(file) : await fetchText(url as string);
  let feed: ReturnType<typeof parseJsonFeed>;
  try {
    feed = parseJsonFeed(text);
  } catch (error) {
    process.stdout.write(`not a disclosure feed: ${(error as Error).message}\n`);
    return EXIT.finding;
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
    return EXIT.done;
  }
  process.stdout.write(
    `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${feed.disclosures.length} disclosures:\n`,
  );
  for (const problem of problems) process.stdout.write(`  ${problem}\n`);
  return EXIT.finding;
}

function describe(record: PublicDisclosure): string {
  const what =
    record.correction === 0
      ? 'published'
      : `correction ${record.correction} of #${record.supersedesSequence}`;
  const changes = record.changes.length > 0 ? `: ${record.changes.join('; ')}` : '';
  return `${record.regionCode} ${record.periodLabel} #${record.sequence} ${what}${changes}`;
}

async function publish(config: HubConfig, options: PeriodOptions): Promise<number> {
  const { region, period } = options;
  if (period !== undefined && region === undefined) throw new UsageError('--period needs --region');
  const settings = disclosureSettingsFromEnvironment();
  const publisher = await DisclosurePublisher.start({
    config,
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
    return EXIT.done;
  } finally {
    await publisher.stop();
  }
}

async function show(config: HubConfig, options: PeriodOptions): Promise<number> {
  const { region, period } = options;
  if (region === undefined) throw new UsageError('show needs --region');
  const endpoints = loadEndpoints();
  const log = createLogger('hub-disclosure', process.env.LOG_LEVEL ?? 'warn');
  const codec = new TopicCodec(createRegistry(endpoints), endpoints.schemaRegistryUrl);
  const { disclosure } = topicsFor(config);
  await codec.prepare([disclosure]);
  const records = await readDisclosureTopic(
    createKafka(endpoints, 'hub-disclosure-show', log),
    codec,
    disclosure,
    config.namespace,
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
    return EXIT.finding;
  }
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(latest.map(toDisclosureJson), null, 2)}\n`);
    return EXIT.done;
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
  return EXIT.done;
}

function keygen(): number {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  process.stdout.write(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  process.stderr.write(
    `key id ${keyIdOf(publicKey)}; public key (publish it):\n${publicKey.export({ format: 'pem', type: 'spki' }).toString()}`,
  );
  return EXIT.done;
}
