import type { ItemEvent } from './event.js';
import { MAX_MESSAGE_BYTES, parseTimestamp } from './validate-event.js';

export type ItemValidation = { ok: true; item: ItemEvent } | { ok: false; reason: string };

const fail = (reason: string): ItemValidation => ({ ok: false, reason });

/** Item catalog events (topic `items`, CONTRACT §1): item_id and ts required, the rest optional. */
export function validateItemMessage(raw: string | Buffer): ItemValidation {
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (bytes > MAX_MESSAGE_BYTES) return fail(`oversized: ${bytes} bytes > ${MAX_MESSAGE_BYTES}`);
  let v: unknown;
  try {
    v = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (err) {
    return fail(`malformed_json: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return fail('not_an_object: the message must be one JSON object');
  }
  const o = v as Record<string, unknown>;
  const itemId = o.item_id;
  if (itemId === undefined || itemId === null) return fail('missing_field: item_id');
  if (typeof itemId !== 'string' || itemId.length < 1 || itemId.length > 128) {
    return fail('invalid_item_id: must be a string of 1..128 chars');
  }
  const ts = parseTimestamp(o.ts);
  if (typeof ts !== 'number') return { ok: false, reason: ts.ok ? 'invalid_ts' : ts.reason };
  const { title, category, price, in_stock: inStock } = o;
  if (title !== undefined && (typeof title !== 'string' || title.length > 1024)) {
    return fail('invalid_title: must be a string of at most 1024 chars');
  }
  if (
    category !== undefined &&
    (typeof category !== 'string' || category.length < 1 || category.length > 128)
  ) {
    return fail('invalid_category: must be a string of 1..128 chars');
  }
  if (price !== undefined && (typeof price !== 'number' || !Number.isFinite(price) || price < 0)) {
    return fail('invalid_price: price must be a number >= 0');
  }
  if (inStock !== undefined && typeof inStock !== 'boolean')
    return fail('invalid_in_stock: must be a boolean');
  return {
    ok: true,
    item: {
      itemId,
      ts,
      ...(title !== undefined && { title }),
      ...(category !== undefined && { category }),
      ...(price !== undefined && { price }),
      ...(inStock !== undefined && { inStock }),
    },
  };
}
