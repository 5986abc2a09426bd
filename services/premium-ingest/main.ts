import { runService } from '../../shared/runner/runner.js';
import { premiumIngestService } from './adapter.js';

await runService(premiumIngestService);
