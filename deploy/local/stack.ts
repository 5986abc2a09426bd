import { SERVICE_ROLES } from '../../services/catalogue.js';
import { STACK_ENV_FILE } from '../../shared/config.js';
import { StackError } from './errors.js';
import {
  readStackState,
  stackDown,
  stackIsRunning,
  stackOptionsFromEnvironment,
  stackUp,
} from './launcher.js';

const USAGE = `usage: tsx deploy/local/stack.ts <up [--cluster] [--secure | --insecure] [--redis-cluster] | down | status>

  up         fetch Kafka and Apicurio Registry from Maven Central (once), start them and Redis
             if none answers; print the endpoints and write them to ${STACK_ENV_FILE}
  --cluster  three KRaft nodes on ports 9092/9094/9096 instead of one
  --secure   the default: SASL_SSL + SCRAM-SHA-512 for clients, ACLs (deny by default), a Redis of its
             own with TLS and ACL users on HUB_REDIS_PORT (6380); credentials under HUB_STACK_DIR/secrets
  --insecure the plain stack, for debugging: no TLS, no credentials, no ACLs (also HUB_STACK_SECURE=0)
  --redis-cluster
             with --insecure: a Redis Cluster of three primaries of the stack's own on HUB_REDIS_CLUSTER_PORT
             (6390) and the two ports after it, instead of a single Redis; writes REDIS_CLUSTER=1
  down       stop exactly what up started and delete its data
  status     say whether the stack is running and where

environment: HUB_STACK_SECURE (1, the default, or 0), HUB_KAFKA_VERSION, HUB_REGISTRY_VERSION, HUB_KAFKA_PORT (9092), HUB_REGISTRY_PORT (8081), HUB_REDIS_PORT (6380), HUB_REDIS_CLUSTER_PORT (6390),
REDIS_URL (redis://127.0.0.1:6379), HUB_CACHE_DIR (~/.cache/medfund-hub), HUB_STACK_DIR (<tmp>/medfund-hub-stack)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv;
  const unknown = flags.filter(
    (f) => !['--cluster', '--secure', '--insecure', '--redis-cluster'].includes(f),
  );
  if (unknown.length > 0 || (flags.length > 0 && command !== 'up')) {
    process.stderr.write(`stack: unknown option ${unknown[0] ?? flags[0]}\n${USAGE}`);
    return 2;
  }
  if (flags.includes('--secure') && flags.includes('--insecure')) {
    process.stderr.write(`stack: --secure or --insecure, not both\n${USAGE}`);
    return 2;
  }
  const options = stackOptionsFromEnvironment(process.env, {
    cluster: flags.includes('--cluster'),
    redisCluster: flags.includes('--redis-cluster'),
    services: SERVICE_ROLES,
    ...(flags.includes('--secure') ? { secure: true } : {}),
    ...(flags.includes('--insecure') ? { secure: false } : {}),
  });
  switch (command) {
    case 'up': {
      const { endpoints } = await stackUp(options);
      process.stdout.write(
        `KAFKA_BROKERS=${endpoints.kafkaBrokers.join(',')}\nSCHEMA_REGISTRY_URL=${endpoints.schemaRegistryUrl}\nREDIS_URL=${endpoints.redisUrl}\n` +
          (endpoints.redisCluster ? 'REDIS_CLUSTER=1\n' : '') +
          (endpoints.security
            ? `# secured: credentials and the CA are in ${options.stateDir}/secrets (see ${options.envFile})\n`
            : ''),
      );
      return 0;
    }
    case 'down': {
      const stopped = await stackDown(options);
      process.stderr.write(
        stopped ? 'stack: stopped\n' : `stack: nothing to stop (no state in ${options.stateDir})\n`,
      );
      return 0;
    }
    case 'status': {
      const state = readStackState(options);
      if (!state) {
        process.stdout.write('stack: not running\n');
        return 1;
      }
      const running = stackIsRunning(state);
      process.stdout.write(
        `stack: ${running ? 'running' : 'partly stopped (run stack:down)'} since ${state.startedAt}; Kafka ${state.kafkaVersion}, Apicurio ${state.registryVersion}\n` +
          state.processes.map((p) => `  ${p.name.padEnd(10)} pid ${p.pid}  log ${p.logFile}\n`).join(''),
      );
      return running ? 0 : 1;
    }
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof StackError) {
    process.stderr.write(`stack: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
