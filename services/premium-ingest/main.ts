import { runService } from '../../shared/runner/runner.js';
import { premiumIngest } from './adapter.js';

await runService(premiumIngest);
