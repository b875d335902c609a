/** Small seeded PRNG (xorshift32): model learning must be reproducible and snapshot-able. */
export class Rng {
  state: number;

  constructor(seed = 0x9e3779b9) {
    this.state = seed >>> 0 || 1;
  }

  nextU32(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return x;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform int in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Approximately standard normal (sum of uniforms: cheap and good enough for initialisation). */
  gauss(): number {
    return this.next() + this.next() + this.next() + this.next() - 2;
  }
}
