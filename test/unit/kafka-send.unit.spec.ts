import { describe, expect, it } from 'vitest';
import { groupByPartition, sendEachPartitionApart } from '../../shared/kafka.js';

// Expected partitions: the Java client's murmur2 test vectors (Kafka's UtilsTest), `(hash & 0x7fffffff) % n`
// worked by hand: '0' → 971027396, '1' → -1993445489, '128' → -326012175, '2187' → -1508407203.
const SIX = 6;
const THREE = 3;
const partitionsOf = (topic: string) => (topic === 'journal' ? SIX : THREE);

describe('groupByPartition (one send per partition, shared/kafka.ts)', () => {
  it("puts keyed messages on the partition the key's murmur2 hash gives, in their order, and keeps explicit partitions", () => {
    const groups = groupByPartition(
      [
        {
          topic: 'journal',
          messages: [
            { key: '0', value: 'a' },
            { key: '1', value: 'b' },
            { key: '128', value: 'c' },
            { key: 'x', value: 'd', partition: 0 },
            { key: '2187', value: 'e' },
          ],
        },
        { topic: 'ledger', messages: [{ key: '0', value: 'f' }] },
      ],
      partitionsOf,
    );
    const seen = groups.map((g) => [g.topic, g.partition, g.messages.map((m) => m.value)]);
    expect(seen).toEqual([
      ['journal', 2, ['a']], // 971027396 % 6
      ['journal', 3, ['b']], // 154038159 % 6
      ['journal', 5, ['c', 'e']], // 1821471473 % 6 and 639076445 % 6, in the order sent
      ['journal', 0, ['d']],
      ['ledger', 2, ['f']], // 971027396 % 3
    ]);
    for (const g of groups) for (const m of g.messages) expect(m.partition).toBe(g.partition);
  });

  it('sends each partition apart, waits for every send, and then raises the first failure', async () => {
    const sent: string[] = [];
    let slowFinished = false;
    const transaction = {
      send: async ({ topic, messages }: { topic: string; messages: { partition?: number }[] }) => {
        const partition = messages[0]?.partition;
        if (partition === 3) throw new Error('refused');
        if (partition === 2) {
          await new Promise((resolve) => setTimeout(resolve, 30));
          slowFinished = true;
        }
        sent.push(`${topic}/${partition}:${messages.length}`);
        return [];
      },
    };
    await expect(
      sendEachPartitionApart(
        transaction as never,
        [
          {
            topic: 'journal',
            messages: [
              { key: '0', value: 'a' },
              { key: '1', value: 'b' },
              { key: '128', value: 'c' },
              { key: '2187', value: 'e' },
            ],
          },
        ],
        partitionsOf,
      ),
    ).rejects.toThrow('refused');
    // The abort that follows must not overtake a send still on its way.
    expect(slowFinished).toBe(true);
    expect(sent.sort()).toEqual(['journal/2:1', 'journal/5:2']);
  });
});
