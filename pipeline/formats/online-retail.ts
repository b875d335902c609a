/**
 * UCI Online Retail CSV → contract events (CONTRACT §2, format `online-retail`).
 * Rows without a customer, cancellations and non-positive quantities are filtered (not dead letters).
 */
export type RetailRow =
  | {
      kind: 'event';
      key: string;
      json: string;
      /** The row's product as a catalog fact (topic `items`): stock code, time and description. */
      item?: { itemId: string; json: string };
    }
  | { kind: 'filtered' }
  | { kind: 'header' };

const HEADER_START = 'InvoiceNo,';

export function mapOnlineRetailLine(line: string): RetailRow {
  if (line.startsWith(HEADER_START)) return { kind: 'header' };
  const f = splitCsv(line);
  const [
    invoice = '',
    stockCode = '',
    description = '',
    quantityText = '',
    date = '',
    priceText = '',
    customer = '',
  ] = f;
  const quantity = Number(quantityText);
  if (customer.trim() === '' || invoice.startsWith('C') || !(quantity > 0))
    return { kind: 'filtered' };
  const userId = customer.endsWith('.0') ? customer.slice(0, -2) : customer;
  const price = priceText === '' ? undefined : Number(priceText);
  // Keep unparsable values as they are so validation reports them as dead letters instead of hiding them.
  const event = {
    event_id: `${invoice}:${stockCode}`,
    ts: date.length === 19 ? `${date.replace(' ', 'T')}Z` : date,
    user_id: userId,
    item_id: stockCode,
    type: 'purchase',
    price: price !== undefined && Number.isFinite(price) ? price : priceText || undefined,
    quantity: Number.isInteger(quantity) ? quantity : quantityText,
    props: description ? { title: description } : undefined,
  };
  // The description is catalog data: it reaches models and pushes as an `items` record (issue
  // 12: titles come from the catalog, never from a clickstream event's props).
  const item = description
    ? {
        itemId: stockCode,
        json: JSON.stringify({ item_id: stockCode, ts: event.ts, title: description }),
      }
    : undefined;
  return { kind: 'event', key: userId, json: JSON.stringify(event), ...(item && { item }) };
}

/** RFC 4180 fields of one line (quoted fields may hold commas and doubled quotes). */
export function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}
