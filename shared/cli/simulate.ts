/** Placeholder: `hub simulate` is being built. */
export async function runSimulate(_args: string[]): Promise<number> {
  process.stderr.write('hub simulate: not implemented yet\n');
  return 2;
}
