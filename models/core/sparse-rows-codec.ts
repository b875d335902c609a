import { PAGE } from './slab.js';
import type { SnapshotReader, SnapshotWriter } from './snapshot.js';
import type { SparseRows } from './sparse-rows.js';
import { EMPTY, S } from './sparse-rows-layout.js';

/**
 * Each row's pairs in its table's slot order, starting after an empty slot, with the table's
 * capacity: loadRows re-inserts them in that order into a table of that capacity, which puts
 * every pair back in its slot (linear probing never crosses an empty slot, and every slot on
 * a pair's probe path is filled before it). So a restored model saves the same bytes and
 * saving needs no sort and no lookups: one pass over the tables (issue 11: sorting every row
 * took about 1 s per snapshot with 20,000 full rows, every 30 s, on the event loop).
 */
export function saveRows(m: SparseRows, w: SnapshotWriter): void {
  let total = 0;
  let totalTop = 0;
  for (let r = 0; r < m.rows; r++) {
    total += m.nnz[r];
    totalTop += m.topLen[r];
  }
  const ptr = new Int32Array(m.rows + 1);
  const caps = new Int32Array(m.rows);
  const cols = new Int32Array(total);
  const ws = new Float32Array(total);
  const tptr = new Int32Array(m.rows + 1);
  const tcols = new Int32Array(totalTop);
  let o = 0;
  let t = 0;
  for (let r = 0; r < m.rows; r++) {
    ptr[r] = o;
    const cap = m.tCap[r];
    caps[r] = cap;
    const ti = m.slab.i[m.tPage[r]];
    const tf = m.slab.f[m.tPage[r]];
    const tb = m.tOff[r];
    // a table is never full (load factor <= 3/4), so it has an empty slot to start after
    let first = 0;
    while (ti[tb + first * S] !== EMPTY) first++;
    for (let k = 1; k <= cap; k++) {
      const e = tb + ((first + k) & (cap - 1)) * S;
      if (ti[e] === EMPTY) continue;
      cols[o] = ti[e];
      ws[o++] = tf[e + 1];
    }
    tptr[r] = t;
    const li = m.slab.i[m.lPage[r]];
    const lb = m.lOff[r];
    for (let p = 0; p < m.topLen[r]; p++) tcols[t++] = li[lb + p * S];
  }
  ptr[m.rows] = o;
  tptr[m.rows] = t;
  w.set('rows', m.rows);
  w.set('topM', m.topM);
  w.set('slotOrder', true);
  w.adopt('ptr', ptr);
  w.adopt('caps', caps);
  w.adopt('cols', cols);
  w.adopt('w', ws);
  w.adopt('tptr', tptr);
  w.adopt('tcols', tcols);
}

/** What saveRows wrote, or a snapshot from before slot order, into `m` (emptied first). */
export function loadRows(m: SparseRows, r: SnapshotReader): void {
  if (r.num('topM') !== m.topM) {
    throw new Error(`snapshot keeps ${r.num('topM')} neighbours, model ${m.topM}`);
  }
  const rows = r.num('rows');
  const ptr = r.i32('ptr');
  const cols = r.i32('cols');
  const ws = r.f32('w');
  const tptr = r.i32('tptr');
  const tcols = r.i32('tcols');
  // snapshots before 2026-12-06 hold rows in column order without capacities
  const caps = r.value('slotOrder') === true ? r.i32('caps') : undefined;
  m.clear();
  m.ensureRows(rows);
  for (let row = 0; row < rows; row++) {
    const cap = caps?.[row] ?? 8;
    if (cap !== m.tCap[row] && cap >= 8 && (cap & (cap - 1)) === 0) {
      const old = m.tPage[row] * PAGE + m.tOff[row];
      const oldCap = m.tCap[row];
      m.newTable(row, cap);
      m.slab.release(old, oldCap * S);
    }
    for (let o = ptr[row]; o < ptr[row + 1]; o++) {
      // slotFor may grow the row and move its table: look it up after it
      const slot = m.slotFor(row, cols[o]);
      m.slab.f[m.tPage[row]][m.tOff[row] + slot * S + 1] = ws[o];
    }
    const n = tptr[row + 1] - tptr[row];
    if (n === 0) continue;
    // exactly n entries, as the list was when saved; it grows by doubling from there
    m.moveTop(row, 0, n);
    for (let p = 0; p < n; p++) {
      const col = tcols[tptr[row] + p];
      const s = m.slotFor(row, col);
      m.place(row, p, col, m.slab.f[m.tPage[row]][m.tOff[row] + s * S + 1], s);
    }
    m.topLen[row] = n;
  }
}
