import { runService } from '../../shared/runner/runner.js';
import { payoutIngestService } from './adapter.js';

await runService(payoutIngestService);
