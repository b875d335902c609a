import type { ItemEvent } from '../models/event.js';
import { LONE_SURROGATE, field, parseObjectMessage } from './message-text.js';
import { checkId, priceProblem, eventTimestamp, type ValidationClock } from './validate-event.js';

export type ItemValidation = { ok: true; item: ItemEvent } | { ok: false; reason: string };

const fail = (reason: string): ItemValidation => ({ ok: false, reason });
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_EXCEPT_SPACE = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/**
 * Item catalog events (topic `items`, CONTRACT §1): item_id and ts required, the rest optional.
 * The same message rules as the clickstream (CONTRACT §5); never throws.
 */
export function validateItemMessage(
  raw: string | Buffer,
  clock: ValidationClock = {},
): ItemValidation {
  const parsed = parseObjectMessage(raw);
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  const rawId = field(o, 'item_id');
  if (rawId === undefined || rawId === null) return fail('missing_field: item_id');
  const itemId = checkId(rawId, 'item_id');
  if (typeof itemId !== 'string') return itemId;
  const ts = eventTimestamp(field(o, 'ts'), clock);
  if (typeof ts !== 'number') return ts;
  const title = field(o, 'title');
  const category = field(o, 'category');
  const price = field(o, 'price');
  const inStock = field(o, 'in_stock');
  if (title !== undefined) {
    if (typeof title !== 'string' || title.length > 1024)
      return fail('invalid_title: must be a string of at most 1024 chars');
    // shown to shoppers in pushes: no terminal or layout control characters, only tab and newline
    if (CONTROL_EXCEPT_SPACE.test(title) || LONE_SURROGATE.test(title))
      return fail('invalid_title: contains a control character or a lone surrogate');
  }
  let cat: string | undefined;
  if (category !== undefined) {
    const c = checkId(category, 'category');
    if (typeof c !== 'string') return c;
    cat = c;
  }
  if (price !== undefined) {
    const bad = priceProblem(price);
    if (bad) return fail(bad);
  }
  if (inStock !== undefined && typeof inStock !== 'boolean')
    return fail('invalid_in_stock: must be a boolean');
  return {
    ok: true,
    item: {
      itemId,
      ts,
      ...(title !== undefined && { title }),
      ...(cat !== undefined && { category: cat }),
      ...(price !== undefined && { price: price as number }),
      ...(inStock !== undefined && { inStock }),
    },
  };
}
