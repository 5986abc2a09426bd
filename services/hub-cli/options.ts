import { type Command, InvalidArgumentError, Option } from 'commander';
import { loadRegions } from '../../shared/policy/regions.js';

/**
 * What the `hub` commands share: the exit codes, the usage error, and the options more than one command
 * takes, each checked when it is parsed so a bad value is named with what is wanted.
 */

/** The exit codes every `hub` command keeps (README: Operations). */
export const EXIT = {
  /** Done. */
  done: 0,
  /** A finding (verification problems, nothing published) or a failure (configuration, broker, registry). */
  finding: 1,
  /** Usage: an unknown command or option, a bad value, bad input on stdin. */
  usage: 2,
} as const;

/** A usage problem found after parsing (two options that exclude each other, bad JSON input): exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command's action: its exit code. */
export type Action<O> = (options: O, command: Command) => Promise<number> | number;

// Commander drops what an action returns; the entry point takes the code from here after parsing.
let actionExitCode: number = EXIT.done;

/** Wraps an action for commander; errors go to the entry point, which turns them into one line. */
export function exitWith<O>(action: Action<O>): (options: O, command: Command) => Promise<void> {
  return async (options, command) => {
    actionExitCode = await action(options, command);
  };
}

/** The exit code of the action that ran (0 when none did), and forgets it. */
export function takeExitCode(): number {
  const code = actionExitCode;
  actionExitCode = EXIT.done;
  return code;
}

const regionList = (): string =>
  [...loadRegions().values()].map((region) => `${region.code} ${region.name.en}`).join(', ');

/** --region: a 6-digit region code (统筹区 code) that has a policy file in shared/policy/regions/. */
export function regionCode(text: string): string {
  const codes = [...loadRegions().keys()];
  if (!/^\d{6}$/.test(text)) {
    throw new InvalidArgumentError(`Expected a 6-digit region code such as ${codes.join(' or ')}`);
  }
  if (!codes.includes(text)) {
    throw new InvalidArgumentError(
      `No policy file for region ${text} in shared/policy/regions/ (known: ${regionList()})`,
    );
  }
  return text;
}

export const regionOption = (description: string): Option =>
  new Option('--region <code>', `${description}: ${regionList()}`).argParser(regionCode);

/** A whole number from min (to max), written in digits only: no sign, no exponent, no 0x. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= min && value <= max)) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER
          ? `Expected a whole number of at least ${min}`
          : `Expected a whole number from ${min} to ${max}`,
      );
    }
    return value;
  };
}
