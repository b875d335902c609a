/**
 * The synthetic catalogue of bench/retrieval.ts: item vectors around Zipf-sized topics and
 * queries that mix two topics, from one seeded generator (the same seed gives the same data, in
 * the same draw order as before the split).
 */
export const TOPICS = 1000;

export function syntheticData(SEED: number, N: number, DIM: number, Q: number) {
  // mulberry32 + Box–Muller: seeded, fast enough for 64M normals
  let state = SEED >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare = Number.NaN;
  const gauss = (): number => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = Number.NaN;
      return s;
    }
    const u = Math.max(uniform(), 1e-12);
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * uniform();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };

  function catalogue(): { items: Float32Array; topics: Float32Array; cdf: Float64Array } {
    const topics = new Float32Array(TOPICS * DIM);
    for (let x = 0; x < topics.length; x++) topics[x] = gauss() / Math.sqrt(DIM);
    // Zipf(0.8) topic sizes: a few large categories, a long tail
    const cdf = new Float64Array(TOPICS);
    let acc = 0;
    for (let t = 0; t < TOPICS; t++) cdf[t] = acc += 1 / Math.pow(t + 1, 0.8);
    for (let t = 0; t < TOPICS; t++) cdf[t] /= acc;
    const spread = Float32Array.from(
      { length: TOPICS },
      () => (0.4 + 0.4 * uniform()) / Math.sqrt(DIM),
    );
    const items = new Float32Array(N * DIM);
    for (let i = 0; i < N; i++) {
      const t = pickTopic(cdf);
      const scale = Math.exp(0.25 * gauss());
      const s = spread[t];
      for (let d = 0; d < DIM; d++)
        items[i * DIM + d] = scale * (topics[t * DIM + d] + s * gauss());
    }
    return { items, topics, cdf };
  }

  function pickTopic(cdf: Float64Array): number {
    const u = uniform();
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function queries(topics: Float32Array, cdf: Float64Array): Float32Array {
    const q = new Float32Array(Q * DIM);
    for (let j = 0; j < Q; j++) {
      const a = pickTopic(cdf);
      const b = Math.floor(uniform() * TOPICS);
      const wb = 0.5 * uniform();
      for (let d = 0; d < DIM; d++)
        q[j * DIM + d] =
          topics[a * DIM + d] + wb * topics[b * DIM + d] + (0.3 * gauss()) / Math.sqrt(DIM);
    }
    return q;
  }

  return { uniform, gauss, catalogue, queries };
}
