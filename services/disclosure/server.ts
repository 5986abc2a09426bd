import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/logger.js';
import type { PublicDisclosure } from '../../shared/records.js';
import { renderAtom } from './render/atom.js';
import { renderCsv } from './render/csv.js';
import { renderJson } from './render/json.js';
import { renderPage } from './render/page.js';

/**
 * The public feed over plain node:http: what the publisher has read from the disclosure topic and
 * appended since. Read-only, GET and HEAD only, no framework.
 *
 *   /                     the Chinese page (every region); /regions/<code> one region
 *   /disclosures.json     the JSON feed (?region=<code> for one chain)
 *   /disclosures.csv      the same as CSV
 *   /disclosures.atom     Atom 1.0, one entry per disclosure
 *   /public-key.pem       the publisher's Ed25519 public key (SPKI PEM)
 *   /healthz              200 when the chain has been read and the aggregation runs, else 503
 */

export interface DisclosureSource {
  disclosures(): readonly PublicDisclosure[];
  isReady(): boolean;
}

export interface DisclosureServerOptions {
  readonly source: DisclosureSource;
  readonly key: { readonly publicKeyPem: string; readonly keyId: string };
  readonly threshold: number;
  /** Extra readiness (e.g. the aggregation runner); default ready. */
  readonly alsoReady?: () => boolean;
  /** For Atom links; default http://<Host header>. */
  readonly baseUrl?: string;
  readonly logger?: Logger;
  readonly clock?: () => Date;
}

const REGION = /^\d{6}$/;
/** Request headers beyond this are refused by node:http itself with 431. */
export const MAX_HEADER_BYTES = 8192;
/** A request target longer than any of the feed's paths with a query: 414. */
export const MAX_URL_LENGTH = 1024;

export function createDisclosureServer(options: DisclosureServerOptions): Server {
  const clock = options.clock ?? (() => new Date());
  return createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (request, response) => {
    try {
      route(request, response, options, clock());
    } catch (error) {
      options.logger?.error({ err: (error as Error).message, url: request.url }, 'disclosure page failed');
      send(response, request, 500, 'text/plain; charset=utf-8', 'internal error\n');
    }
  });
}

function route(
  request: IncomingMessage,
  response: ServerResponse,
  options: DisclosureServerOptions,
  now: Date,
): void {
  if (refused(request, response)) return;
  const url = new URL(request.url ?? '/', 'http://localhost');
  const region = url.searchParams.get('region');
  if (region !== null && !REGION.test(region)) {
    send(response, request, 400, 'text/plain; charset=utf-8', 'region must be a 6-digit code\n');
    return;
  }
  const all = options.source.disclosures();
  const selected = region === null ? all : all.filter((d) => d.regionCode === region);
  const path = url.pathname;
  const regionPage = /^\/regions\/(\d{6})\/?$/.exec(path);
  if (path === '/' || path === '/index.html' || regionPage) {
    const only = regionPage?.[1] ?? region;
    const html = renderPage(
      only === null || only === undefined ? all : all.filter((d) => d.regionCode === only),
      {
        publicKeyPem: options.key.publicKeyPem,
        signingKeyId: options.key.keyId,
        generatedAt: now,
        suppressionThreshold: options.threshold,
        ...(only ? { regions: [only] } : {}),
      },
    );
    send(response, request, 200, 'text/html; charset=utf-8', html);
    return;
  }
  switch (path) {
    case '/disclosures.json':
      send(response, request, 200, 'application/json; charset=utf-8', renderJson(selected, options.key, now));
      return;
    case '/disclosures.csv':
      response.setHeader('content-disposition', 'inline; filename="disclosures.csv"');
      send(response, request, 200, 'text/csv; charset=utf-8; header=present', renderCsv(selected));
      return;
    case '/disclosures.atom': {
      const baseUrl = options.baseUrl ?? `http://${request.headers.host ?? 'localhost'}`;
      send(
        response,
        request,
        200,
        'application/atom+xml; charset=utf-8',
        renderAtom(selected, { baseUrl, generatedAt: now }),
      );
      return;
    }
    case '/public-key.pem':
      send(response, request, 200, 'application/x-pem-file', options.key.publicKeyPem);
      return;
    case '/healthz': {
      const ready = options.source.isReady() && (options.alsoReady?.() ?? true);
      send(
        response,
        request,
        ready ? 200 : 503,
        'application/json; charset=utf-8',
        `${JSON.stringify({ status: ready ? 'ok' : 'starting', disclosures: all.length })}\n`,
      );
      return;
    }
    default:
      send(response, request, 404, 'text/plain; charset=utf-8', 'not found\n');
  }
}

/** Refuses what is no request of a read-only feed (sent here); false when the request may be routed. */
function refused(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    send(response, request, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return true;
  }
  const target = request.url ?? '/';
  if (target.length > MAX_URL_LENGTH) {
    send(response, request, 414, 'text/plain; charset=utf-8', 'request target too long\n');
    return true;
  }
  // A read-only feed takes no body: a request that announces one is refused, and the body is not read.
  const length = Number(request.headers['content-length'] ?? 0);
  if (request.headers['transfer-encoding'] !== undefined || !(length === 0)) {
    response.setHeader('connection', 'close');
    send(response, request, 413, 'text/plain; charset=utf-8', 'no request body is accepted\n');
    return true;
  }
  // `..` (or its percent-encoding) in a path is never a path of the feed: refuse it outright.
  if (/(^|[/\\])(\.|%2e){2}([/\\?#]|$)/i.test(target.split('?')[0] ?? '')) {
    send(response, request, 400, 'text/plain; charset=utf-8', 'bad path\n');
    return true;
  }
  return false;
}

function send(
  response: ServerResponse,
  request: IncomingMessage,
  status: number,
  contentType: string,
  body: string,
): void {
  const bytes = Buffer.from(body, 'utf8');
  response.statusCode = status;
  response.setHeader('content-type', contentType);
  response.setHeader('content-length', bytes.length);
  response.setHeader('x-content-type-options', 'nosniff');
  // Public data: any verifier may fetch it from a browser.
  response.setHeader('access-control-allow-origin', '*');
  response.setHeader(
    'content-security-policy',
    // No script at all; the page's one <style> and ECharts' server-rendered SVG (style attributes) need
    // inline styles; images only as data: URIs; nothing may frame it.
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  response.setHeader('x-frame-options', 'DENY');
  response.setHeader('referrer-policy', 'no-referrer');
  response.setHeader('cross-origin-opener-policy', 'same-origin');
  response.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=()');
  response.setHeader('cache-control', 'no-cache');
  response.end(request.method === 'HEAD' ? undefined : bytes);
}

/** Listens on the port (0 picks a free one) and resolves with the port bound. */
export async function listen(server: Server, port: number, host?: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
