import { describe, expect, it } from 'vitest';
import { kafkaClusterId } from '../../../deploy/local/launcher.js';

/** Bytes from a fixed list, one 16-byte draw after another, so a test chooses what "random" gives. */
function draws(...first: number[]): (size: number) => Buffer {
  const queue = first.map((byte) => Buffer.alloc(16, byte));
  return (size) => queue.shift() ?? Buffer.alloc(size, 0x11);
}

describe('the KRaft cluster id (as Kafka Uuid.randomUuid)', () => {
  it('is 22 base64url characters that decode to a version-4, variant-2 UUID', () => {
    const id = kafkaClusterId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const bytes = Buffer.from(id, 'base64url');
    expect(bytes).toHaveLength(16);
    expect((bytes[6] ?? 0) >> 4).toBe(4);
    expect((bytes[8] ?? 0) >> 6).toBe(0b10);
  });

  it("draws again when the id would start with '-' (kafka-storage reads it as an option)", () => {
    // 0xf8 = 111110 00: the first six bits are 62, base64url '-'.
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    const id = kafkaClusterId(draws(0xf8, 0xfb));
    // Both 0xf8 and 0xfb start with '-'; the third draw (0x11 bytes) is the one kept: 0x11 = 000100 01 → 'E'.
    expect(id.startsWith('E')).toBe(true);
  });

  it("never starts with '-' in 20,000 ids (about 310 would with plain random base64url)", () => {
    const ids = Array.from({ length: 20_000 }, () => kafkaClusterId());
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
