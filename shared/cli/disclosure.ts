/** Placeholder: `hub disclosure` is being built. */
export async function runDisclosure(_args: string[]): Promise<number> {
  process.stderr.write('hub disclosure: not implemented yet\n');
  return 2;
}
