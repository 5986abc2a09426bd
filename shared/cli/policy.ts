/** Placeholder until the policy engine lands: `hub policy <supplement|eligibility|sla|params>`. */
export async function runPolicy(_args: string[]): Promise<number> {
  process.stderr.write('hub policy: not implemented yet\n');
  return 2;
}
