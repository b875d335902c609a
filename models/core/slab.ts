/**
 * Many small int/float regions in a few large buffers (issue 12). A typed array of its own per
 * row costs an ArrayBuffer, two views and a separately malloc'd store (about 600 B of heap and
 * RSS beyond the data for a 96-byte row); here a region is a word offset into a shared page.
 *
 * A region lives in one page. Pages hold PAGE_WORDS 32-bit words, as Int32 and Float32 views of
 * the same buffer, so a float is read through `f` and an int through `i` at the same index.
 * Regions larger than BIG_WORDS get a page of their own, released when they are freed. Freed
 * small regions are kept per exact size and reused first; the free lists hold at most what the
 * pages hold, so the slab never grows beyond the largest total its owner ever had live (plus one
 * partly used page and, per size, the regions freed since).
 */
/** Words per shared page (1 MiB); region handles are page * PAGE + offset. */
export const PAGE = 1 << 18;
const PAGE_WORDS = PAGE;
const BIG_WORDS = PAGE_WORDS >> 4;

export class Slab {
  /** Int32 view of each page; a released page is the empty array. */
  readonly i: Int32Array[] = [];
  /** Float32 view of each page, over the same buffer as `i`. */
  readonly f: Float32Array[] = [];
  /**
   * Free small regions by size in words (page * PAGE + offset). Bound: what the pages hold; keyed
   * by the owner's few region sizes, never by input.
   */
  private readonly free = new Map<number, number[]>();
  /** Released dedicated pages, reused as page numbers first. Bound: the pages ever made. */
  private readonly freePages: number[] = [];
  private page = -1;
  private used = PAGE_WORDS;

  /**
   * A region of `words` words: returns page * PAGE_WORDS + offset (decode with pageOf/offsetOf).
   * Its contents are unspecified (a reused region keeps old words): callers fill what they read.
   */
  alloc(words: number): number {
    if (words > BIG_WORDS) {
      const p = this.freePages.pop() ?? this.i.length;
      const buf = new ArrayBuffer(words * 4);
      this.i[p] = new Int32Array(buf);
      this.f[p] = new Float32Array(buf);
      return p * PAGE_WORDS;
    }
    const list = this.free.get(words);
    const reused = list?.pop();
    if (reused !== undefined) return reused;
    if (this.used + words > PAGE_WORDS) {
      const p = this.freePages.pop() ?? this.i.length;
      const buf = new ArrayBuffer(PAGE_WORDS * 4);
      this.i[p] = new Int32Array(buf);
      this.f[p] = new Float32Array(buf);
      this.page = p;
      this.used = 0;
    }
    const at = this.page * PAGE_WORDS + this.used;
    this.used += words;
    return at;
  }

  /** Gives back a region of `words` words obtained from alloc(words). */
  release(at: number, words: number): void {
    if (words > BIG_WORDS) {
      const p = pageOf(at);
      this.i[p] = EMPTY_I32;
      this.f[p] = EMPTY_F32;
      this.freePages.push(p);
      return;
    }
    let list = this.free.get(words);
    if (list === undefined) this.free.set(words, (list = []));
    list.push(at);
  }
}

export const pageOf = (at: number): number => Math.floor(at / PAGE_WORDS);
export const offsetOf = (at: number): number => at % PAGE_WORDS;

const EMPTY_I32 = new Int32Array(0);
const EMPTY_F32 = new Float32Array(0);
