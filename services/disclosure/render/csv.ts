import type { PublicDisclosure } from '../../../shared/records.js';
import { DISCLOSURE_FIELDS, toDisclosureJson } from '../chain.js';
import { FIELD_LABELS_ZH } from './labels.js';

/**
 * CSV (RFC 4180, UTF-8, CRLF): one header row "premiumIncome 保费收入（元）", then one row per disclosure
 * in chain order with the JSON feed's text (null as an empty cell, changes joined by "; ").
 */

/** Spreadsheet programs on Chinese Windows read a CSV without it as GBK and garble every name. */
export const UTF8_BOM = '\uFEFF';
const cell = (value: string): string => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

export const csvHeader = (): string[] =>
  DISCLOSURE_FIELDS.map((field) => `${field} ${FIELD_LABELS_ZH[field]}`);

export function renderCsv(disclosures: readonly PublicDisclosure[]): string {
  const rows = [csvHeader().map(cell).join(',')];
  for (const record of disclosures) {
    const json = toDisclosureJson(record) as unknown as Record<string, unknown>;
    rows.push(
      DISCLOSURE_FIELDS.map((field) => {
        const value = json[field];
        if (value === null || value === undefined) return '';
        return cell(Array.isArray(value) ? value.join('; ') : String(value));
      }).join(','),
    );
  }
  return `${UTF8_BOM}${rows.join('\r\n')}\r\n`;
}
