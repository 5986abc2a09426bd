import { describe, expect, it } from 'vitest';
import { stackOptionsFromEnvironment } from '../../deploy/local/launcher.js';
import { principalEnvironment } from '../../deploy/local/secure.js';
import type { Endpoints } from '../../shared/config.js';

describe('stackOptionsFromEnvironment: secured by default', () => {
  it('is secured unless HUB_STACK_SECURE=0 (or an override) asks for the plain stack', () => {
    expect(stackOptionsFromEnvironment({}).secure).toBe(true);
    expect(stackOptionsFromEnvironment({ HUB_STACK_SECURE: '' }).secure).toBe(true);
    expect(stackOptionsFromEnvironment({ HUB_STACK_SECURE: '1' }).secure).toBe(true);
    expect(stackOptionsFromEnvironment({ HUB_STACK_SECURE: '0' }).secure).toBe(false);
    expect(stackOptionsFromEnvironment({}, { secure: false }).secure).toBe(false);
  });

  it('refuses a value that is neither 1 nor 0, naming the variable', () => {
    expect(() => stackOptionsFromEnvironment({ HUB_STACK_SECURE: 'yes' })).toThrow(
      "HUB_STACK_SECURE: 'yes' is neither 1 (secured, the default) nor 0 (plain)",
    );
  });
});

describe('principalEnvironment', () => {
  const plain: Endpoints = {
    kafkaBrokers: ['127.0.0.1:29092', '127.0.0.1:29094'],
    schemaRegistryUrl: 'http://127.0.0.1:28081/apis/ccompat/v7',
    redisUrl: 'redis://127.0.0.1:6379',
  };
  const secured: Endpoints = {
    ...plain,
    redisUrl: 'rediss://admin@127.0.0.1:26380',
    security: { kafka: { username: 'admin', password: 'not-in-the-environment', ca: 'PEM' } },
  };

  it('hands a principal its name, its password file, the CA file and its Redis user: paths, never a secret', () => {
    expect(principalEnvironment(secured, '/stack/secrets', 'accounting')).toEqual({
      KAFKA_BROKERS: '127.0.0.1:29092,127.0.0.1:29094',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:28081/apis/ccompat/v7',
      REDIS_URL: 'rediss://accounting@127.0.0.1:26380',
      HUB_KAFKA_USERNAME: 'accounting',
      HUB_KAFKA_PASSWORD_FILE: '/stack/secrets/accounting.password',
      HUB_KAFKA_CA_FILE: '/stack/secrets/ca.pem',
      HUB_REDIS_PASSWORD_FILE: '/stack/secrets/accounting.password',
    });
    expect(JSON.stringify(principalEnvironment(secured, '/stack/secrets', 'admin'))).not.toContain(
      'not-in-the-environment',
    );
  });

  it('gives only the endpoints on a plain stack', () => {
    expect(principalEnvironment(plain, undefined, 'accounting')).toEqual({
      KAFKA_BROKERS: '127.0.0.1:29092,127.0.0.1:29094',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:28081/apis/ccompat/v7',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
  });
});
