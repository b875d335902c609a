/** Settings and statistics of IvfIndex (models/retrieval/ivf-index.ts). */
export interface IvfOptions {
  /** Cells (inverted lists); default 4·√n at build time (1M items → ~4,000), at least 1. */
  nlist?: number;
  /** Cells scanned per query (default 56). */
  nprobe?: number;
  /**
   * `sq8` (default): one byte per dimension (a per-dimension linear scale), scanned like `flat`
   * with a quarter of the memory; the best `rerank` are re-scored exactly from the source rows.
   * On the 1M benchmark it kept flat's recall exactly at 28% of its memory and ~20% less time.
   * `flat`: a cell holds a full copy of each vector, and every scanned item is scored
   * exactly. `pq`: a cell holds one byte per subspace per item (product quantization of the
   * item's offset from its cell centre); a query scores them by table look-up and re-scores the
   * best `rerank` exactly from the source rows: a tenth of the memory and faster scans, but on
   * the benchmark's catalogue (cells that are norm bands hold widely spread offsets) it lost
   * 14 points of recall@10 at equal work.
   */
  storage?: 'flat' | 'sq8' | 'pq';
  /** PQ subspaces, each coded in one byte (default 8). */
  pqSubspaces?: number;
  /** Approximate (sq8, PQ) candidates re-scored exactly per query (default 64). */
  rerank?: number;
  /** Rows k-means trains on (default 65,536; PQ codebooks use at most 32,768 of them). */
  trainSample?: number;
  /** Lloyd iterations per level (default 8). */
  iterations?: number;
  /**
   * Cells are probed in order of q·c + radiusWeight·‖q‖·r, r = the cell's RMS radius
   * (default 0.5). A wide cell can hold items that score far above its centre; the radius
   * term lets the probe order see that (measured: +4 points recall at equal work).
   */
  radiusWeight?: number;
  /**
   * Index x as [x, √(M² − ‖x‖²)] (M = the largest norm at build) and queries as [q, 0]: every
   * item then lies on one sphere, where the largest inner product is the nearest neighbour, so
   * k-means cells group items by what a query would score them at (Bachrach et al. 2014).
   * Default true.
   */
  mips?: boolean;
  /**
   * The sphere coordinate is multiplied by this (default 3). Above 1 k-means splits more by
   * norm band than by direction, which suits factor models, where a query's best items differ
   * from their neighbours mostly by norm (popular items get longer vectors). Measured on the
   * 1M benchmark: recall@10 0.86 → 0.97 at nprobe 64; on live MF factors 0.62 → 1.0.
   */
  mipsScale?: number;
  /**
   * Groups whose cells are considered for probing (default 16; 0: every cell's centre is
   * scored). A query scores the √nlist group centres, then only the cells of the best G groups
   * (ranked by q·g + radiusWeight·‖q‖·R, R bounding the group's spread): on the 1M benchmark
   * 0.3 ms less per query for 0.3 points of recall@10.
   */
  probeGroups?: number;
  seed?: number;
}

export interface IvfStats {
  readonly items: number;
  readonly lists: number;
  readonly groups: number;
  readonly minList: number;
  readonly maxList: number;
  /** Bytes the index holds itself (codes or vector copies, ids, centroids, codebooks, maps). */
  readonly bytes: number;
}

export const IVF_DEFAULTS = {
  nprobe: 56,
  storage: 'sq8' as 'flat' | 'sq8' | 'pq',
  pqSubspaces: 8,
  rerank: 64,
  trainSample: 65_536,
  iterations: 8,
  radiusWeight: 0.5,
  mips: true,
  mipsScale: 3,
  probeGroups: 16,
  seed: 7,
};

export type IvfSettings = typeof IVF_DEFAULTS & { nlist: number };
