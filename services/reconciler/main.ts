import { runService } from '../../shared/runner/runner.js';
import { reconcilerService } from './adapter.js';

await runService(reconcilerService);
