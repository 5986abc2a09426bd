import { runService } from '../../shared/runner/runner.js';
import { accounting } from './adapter.js';

await runService(accounting);
