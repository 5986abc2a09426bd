import { runService } from '../../shared/runner/runner.js';
import { settlementIngest } from './adapter.js';

await runService(settlementIngest);
