#!/usr/bin/env node
// The `hub` command (`npx hub ...`). Registers tsx so the TypeScript sources run as they are,
// then hands over to main.ts. A deployment image runs the compiled dist/ instead.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
