import { runService } from '../../shared/runner/runner.js';
import { settlementIngestService } from './adapter.js';

await runService(settlementIngestService);
