import { runService } from '../../shared/runner/runner.js';
import { reconciler } from './adapter.js';

await runService(reconciler);
