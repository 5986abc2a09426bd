import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaSecurityFrom, redisSecurityFrom, withoutPassword } from '../../shared/security.js';

// Reads two small files it writes itself (a fake CA and a password): no network.
const dir = mkdtempSync(join(tmpdir(), 'hub-security-unit-'));
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const passwordFile = join(dir, 'p');
writeFileSync(passwordFile, 's3cret-value\n');

describe('kafkaSecurityFrom', () => {
  it('is plaintext without HUB_KAFKA_USERNAME', () => {
    expect(kafkaSecurityFrom({})).toBeUndefined();
  });

  it('reads the password from its file and the CA', () => {
    expect(
      kafkaSecurityFrom({
        HUB_KAFKA_USERNAME: 'u',
        HUB_KAFKA_PASSWORD_FILE: passwordFile,
        HUB_KAFKA_CA_FILE: caFile,
      }),
    ).toEqual({
      username: 'u',
      password: 's3cret-value',
      ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    });
  });

  it('names the missing secret, never a value', () => {
    expect(() => kafkaSecurityFrom({ HUB_KAFKA_USERNAME: 'u', HUB_KAFKA_CA_FILE: caFile })).toThrow(
      'HUB_KAFKA_PASSWORD or HUB_KAFKA_PASSWORD_FILE: not set (needed with HUB_KAFKA_USERNAME)',
    );
    expect(() => kafkaSecurityFrom({ HUB_KAFKA_USERNAME: 'u', HUB_KAFKA_PASSWORD: 'pw-123' })).toThrow(
      'HUB_KAFKA_CA_FILE: not set (needed with HUB_KAFKA_USERNAME)',
    );
    expect(() => kafkaSecurityFrom({ HUB_KAFKA_PASSWORD: 'pw-123' })).toThrow(
      'HUB_KAFKA_USERNAME: not set, but HUB_KAFKA_PASSWORD is',
    );
    expect(() =>
      kafkaSecurityFrom({
        HUB_KAFKA_USERNAME: 'u',
        HUB_KAFKA_PASSWORD: 'pw-123',
        HUB_KAFKA_PASSWORD_FILE: passwordFile,
      }),
    ).toThrow('set HUB_KAFKA_PASSWORD or HUB_KAFKA_PASSWORD_FILE, not both');
  });
});

describe('redisSecurityFrom', () => {
  it('needs a password for a user', () => {
    expect(() => redisSecurityFrom({}, 'redis://accounting@127.0.0.1:6379')).toThrow(
      'HUB_REDIS_PASSWORD or HUB_REDIS_PASSWORD_FILE: not set (REDIS_URL names user accounting)',
    );
    expect(redisSecurityFrom({ HUB_REDIS_PASSWORD_FILE: passwordFile }, 'redis://accounting@h:1')).toEqual({
      username: 'accounting',
      password: 's3cret-value',
    });
    expect(redisSecurityFrom({}, 'redis://127.0.0.1:6379')).toBeUndefined();
  });

  it('trusts the CA for rediss://', () => {
    expect(redisSecurityFrom({ HUB_REDIS_CA_FILE: caFile }, 'rediss://h:1')?.ca).toContain(
      'BEGIN CERTIFICATE',
    );
  });
});

it('withoutPassword hides a URL password', () => {
  expect(withoutPassword('redis://u:hunter2@h:6379')).toBe('redis://u:***@h:6379');
  expect(withoutPassword('redis://h:6379')).toBe('redis://h:6379');
});
