// Imported first by a test file that runs the hub's services: every topic, group and Redis key the
// file touches gets a namespace of its own (shared/namespace.ts reads HUB_NAMESPACE at load time).
import { randomBytes } from 'node:crypto';

process.env.HUB_NAMESPACE = `test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
