/**
 * Seeded pseudo-random numbers: xoshiro128** seeded through splitmix32. One global generator
 * (`manualSeed`) drives initialisation, dropout and sampling; ops that draw random numbers take
 * a 32-bit seed from it and build their own generator, so every backend draws the same stream.
 */

/** A seeded generator of uniform and normal numbers. */
export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Resets the stream to the one `seed` defines. */
  manualSeed(seed: number): this {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
    this.spare = null;
    return this;
  }

  /** The next 32 random bits. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1] as number, 5), 7), 9) >>> 0;
    const t = (s[1] as number) << 9;
    s[2] = (s[2] as number) ^ (s[0] as number);
    s[3] = (s[3] as number) ^ (s[1] as number);
    s[1] = (s[1] as number) ^ (s[2] as number);
    s[0] = (s[0] as number) ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    this.spare = boxMuller(u, v, 1);
    return boxMuller(u, v, 0);
  }
}

/**
 * One of the two standard normals Box–Muller makes from uniforms `u` in (0, 1) and `v`:
 * `√(−2 ln u)·cos(2πv)` (`which` 0, drawn first) or `·sin(2πv)` (`which` 1). The native
 * random kernel hands back the rare (u, v) whose rounding it leaves to this function.
 */
export function boxMuller(u: number, v: number, which: 0 | 1): number {
  const r = Math.sqrt(-2 * Math.log(u));
  return which === 0 ? r * Math.cos(2 * Math.PI * v) : r * Math.sin(2 * Math.PI * v);
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The global generator. */
export const defaultGenerator = new Generator(0x5eed);

/**
 * Seeds the global generator, making all later randomness (init, dropout, sampling) reproducible.
 *
 * @example
 * manualSeed(42);
 * const a = randn([2]);
 * manualSeed(42);
 * const b = randn([2]); // same values as a
 */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}

/** A fresh 32-bit seed from the global generator, for ops that draw random numbers. */
export function nextSeed(): number {
  return defaultGenerator.nextUint32();
}
