import { runService } from '../../shared/runner/runner.js';
import { accountingService } from './adapter.js';

await runService(accountingService);
