import { runService } from '../../shared/runner/runner.js';
import { payoutIngest } from './adapter.js';

await runService(payoutIngest);
