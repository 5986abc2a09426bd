/**
 * Reading back a service's own stored state (Redis hash fields its codecs wrote). A field that does not
 * read back is corruption, never input: every check throws CorruptStateError naming the entity.
 */
import { CorruptStateError } from './errors.js';
import { Decimal, type Money } from './money.js';
import { type LocalDate, parseLocalDate } from './policy/dates.js';

// formatMoney's output: decimal(18,2) as text.
const MONEY_TEXT = /^-?\d{1,16}\.\d{2}$/;

/** The readers of one entity's fields; `where` names the entity in every error. */
export class StateReader {
  constructor(private readonly where: string) {}

  fail(what: string): never {
    throw new CorruptStateError(`state ${this.where}: ${what}`);
  }

  /** A field that holds a JSON object or array (never null: a null is corruption too). */
  json(text: string | undefined, field: string): unknown {
    if (text === undefined) this.fail(`field ${field} is missing`);
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      return this.fail(`field ${field} is not JSON`);
    }
    if (typeof value !== 'object' || value === null) this.fail(`field ${field} is not a JSON object or list`);
    return value;
  }

  money(value: unknown, what: string): Money {
    if (typeof value !== 'string' || !MONEY_TEXT.test(value)) this.fail(`${what} is not money`);
    return new Decimal(value);
  }

  date(value: unknown, what: string): LocalDate {
    const date = typeof value === 'string' ? parseLocalDate(value) : undefined;
    return date ?? this.fail(`${what} is not a date`);
  }

  optionalDate(value: unknown, what: string): LocalDate | null {
    return value === null ? null : this.date(value, what);
  }

  int(value: unknown, what: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value)) this.fail(`${what} is not an integer`);
    return value;
  }

  text(value: unknown, what: string): string {
    if (typeof value !== 'string') this.fail(`${what} is not text`);
    return value;
  }
}
