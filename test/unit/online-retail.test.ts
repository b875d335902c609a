import { describe, expect, it } from 'vitest';
import { mapOnlineRetailLine, splitCsv } from '../../pipeline/formats/online-retail.js';
import { formatFromFileName } from '../../pipeline/formats/read-lines.js';
import { validateMessage } from '../../stream/validate-event.js';

describe('online-retail format (CONTRACT §2)', () => {
  it('maps a purchase row to a contract event', () => {
    const row = mapOnlineRetailLine(
      '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
    );
    expect(row.kind).toBe('event');
    if (row.kind !== 'event') return;
    expect(row.key).toBe('17850');
    const v = validateMessage(row.json);
    expect(v.ok && v.event).toMatchObject({
      eventId: '536365:85123A',
      userId: '17850',
      itemId: '85123A',
      type: 'purchase',
      ts: Date.UTC(2010, 11, 1, 8, 26),
      price: 2.55,
      quantity: 6,
    });
  });

  it('filters rows without a customer, cancellations and non-positive quantities', () => {
    expect(
      mapOnlineRetailLine('536365,85123A,X,6,2010-12-01 08:26:00,2.55,,United Kingdom').kind,
    ).toBe('filtered');
    expect(
      mapOnlineRetailLine('C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom')
        .kind,
    ).toBe('filtered');
    expect(
      mapOnlineRetailLine('536365,85123A,X,0,2010-12-01 08:26:00,2.55,17850.0,United Kingdom').kind,
    ).toBe('filtered');
    expect(
      mapOnlineRetailLine(
        'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
      ).kind,
    ).toBe('header');
  });

  it('keeps unparsable values so validation turns the row into a dead letter', () => {
    const row = mapOnlineRetailLine('536365,85123A,X,6,not a date,2.55,17850.0,United Kingdom');
    expect(row.kind === 'event' && validateMessage(row.json).ok).toBe(false);
  });

  it('splits RFC 4180 quoted fields', () => {
    expect(splitCsv('a,"b, ""c""",d')).toEqual(['a', 'b, "c"', 'd']);
    expect(splitCsv('a,,b')).toEqual(['a', '', 'b']);
  });

  it('derives the format from the file name', () => {
    expect(formatFromFileName('x.csv')).toBe('online-retail');
    expect(formatFromFileName('x.CSV.gz')).toBe('online-retail');
    expect(formatFromFileName('x.jsonl.gz')).toBe('jsonl');
    expect(formatFromFileName('events.txt')).toBe('jsonl');
  });
});
