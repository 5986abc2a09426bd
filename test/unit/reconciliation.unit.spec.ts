import { describe, expect, it } from 'vitest';
import { localDate } from '../../shared/policy/dates.js';
import { storedLast, timesWith } from '../../shared/reconciliation.js';

// What both reconciler stages keep of an item's changes: the same whatever order the changes came in.

describe("an item's times", () => {
  const first = timesWith(null, localDate('2025-03-10'), 1, 'P1');

  it('the first change opens and updates the item on its own date', () => {
    expect(first).toEqual({
      openedOn: '2025-03-10',
      updatedOn: '2025-03-10',
      last: ['2025-03-10#000001', 'P1'],
    });
  });

  it('an earlier change read later moves only the opening date; the latest change stays', () => {
    expect(timesWith(first, localDate('2025-03-02'), 2, 'P2')).toEqual({
      openedOn: '2025-03-02',
      updatedOn: '2025-03-10',
      last: ['2025-03-10#000001', 'P1'],
    });
  });

  it('a later revision on the same date is the latest change', () => {
    expect(timesWith(first, localDate('2025-03-10'), 2, 'P0')).toEqual({
      openedOn: '2025-03-10',
      updatedOn: '2025-03-10',
      last: ['2025-03-10#000002', 'P0'],
    });
  });

  it('an item never changed (dates null) takes the change as its first', () => {
    const blank = { openedOn: null, updatedOn: null, last: null };
    expect(timesWith(blank, localDate('2025-04-01'), 0, 'PAY1')).toEqual({
      openedOn: '2025-04-01',
      updatedOn: '2025-04-01',
      last: ['2025-04-01#000000', 'PAY1'],
    });
  });

  it('reads back a stored latest change, and nothing else as one', () => {
    expect(storedLast(['2025-03-10#000001', 'P1'])).toEqual(['2025-03-10#000001', 'P1']);
    expect(storedLast(null)).toBeNull();
    expect(storedLast(['only one'])).toBeNull();
  });
});
