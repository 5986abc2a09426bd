import { runService } from '../../shared/runner/runner.js';
import { hospitalReconcilerService } from './adapter.js';

await runService(hospitalReconcilerService);
