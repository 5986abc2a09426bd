/**
 * `--namespace` is read from the command line before commander parses it: the entry point builds the
 * hub's configuration from it (or from HUB_NAMESPACE) once, before any command is built.
 */
export type NamespaceArgument =
  | { readonly kind: 'absent' }
  | { readonly kind: 'given'; readonly value: string }
  | { readonly kind: 'missing' };

/** The value of `--namespace NAME` or `--namespace=NAME` anywhere before `--`; the last one wins. */
export function namespaceArgument(argv: readonly string[]): NamespaceArgument {
  let found: NamespaceArgument = { kind: 'absent' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (arg.startsWith('--namespace=')) found = { kind: 'given', value: arg.slice('--namespace='.length) };
    else if (arg === '--namespace') {
      const value = argv[i + 1];
      found = value === undefined || value.startsWith('-') ? { kind: 'missing' } : { kind: 'given', value };
      i++;
    }
  }
  return found.kind === 'given' && found.value === '' ? { kind: 'missing' } : found;
}
