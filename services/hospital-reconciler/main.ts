import { runService } from '../../shared/runner/runner.js';
import { hospitalReconciler } from './adapter.js';

await runService(hospitalReconciler);
