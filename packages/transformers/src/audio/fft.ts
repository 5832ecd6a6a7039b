/**
 * A mixed-radix fast Fourier transform in float64 for any length (Whisper's n_fft = 400 =
 * 2⁴·5²): decimation in time by the smallest prime factor, recursively, with a plain DFT for
 * prime lengths. NumPy's `rfft` computes the same transform (pocketfft, also float64).
 */

interface Plan {
  n: number;
  p: number; // smallest prime factor (n itself when prime)
  sub: Plan | null;
  cos: Float64Array; // cos(2πk/n), k < n
  sin: Float64Array;
}

const plans = new Map<number, Plan>();

function plan(n: number): Plan {
  let cached = plans.get(n);
  if (cached) return cached;
  let p = n;
  for (let f = 2; f * f <= n; f++) {
    if (n % f === 0) {
      p = f;
      break;
    }
  }
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = Math.sin((2 * Math.PI * k) / n);
  }
  cached = { n, p, sub: p === n ? null : plan(n / p), cos, sin };
  plans.set(n, cached);
  return cached;
}

/** In: `re/im[offset + j·stride]` for j < n. Out: `outRe/outIm[0..n)`. */
function transform(
  pl: Plan,
  re: Float64Array,
  im: Float64Array,
  offset: number,
  stride: number,
  outRe: Float64Array,
  outIm: Float64Array,
  outOffset: number,
): void {
  const { n, p, cos, sin } = pl;
  if (!pl.sub) {
    // Plain DFT (prime length): X[k] = Σ x[j]·e^{−2πi jk/n}.
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < n; j++) {
        const w = (j * k) % n;
        const xr = re[offset + j * stride] as number;
        const xi = im[offset + j * stride] as number;
        sr += xr * (cos[w] as number) + xi * (sin[w] as number);
        si += xi * (cos[w] as number) - xr * (sin[w] as number);
      }
      outRe[outOffset + k] = sr;
      outIm[outOffset + k] = si;
    }
    return;
  }
  const m = n / p;
  // Sub-transforms of the p interleaved subsequences, stored one after another.
  const subRe = new Float64Array(n);
  const subIm = new Float64Array(n);
  for (let r = 0; r < p; r++) transform(pl.sub, re, im, offset + r * stride, stride * p, subRe, subIm, r * m);
  for (let k = 0; k < m; k++) {
    for (let q = 0; q < p; q++) {
      const kk = k + q * m;
      let sr = 0;
      let si = 0;
      for (let r = 0; r < p; r++) {
        const w = (r * kk) % n;
        const yr = subRe[r * m + k] as number;
        const yi = subIm[r * m + k] as number;
        sr += yr * (cos[w] as number) + yi * (sin[w] as number);
        si += yi * (cos[w] as number) - yr * (sin[w] as number);
      }
      outRe[outOffset + kk] = sr;
      outIm[outOffset + kk] = si;
    }
  }
}

/**
 * The one-sided spectrum of real `x` (length n): `n/2 + 1` complex values as `[re, im]`.
 *
 * @example
 * const { re, im } = rfft(Float64Array.from([1, 0, 0, 0])); // all ones
 */
export function rfft(x: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = x.length;
  const pl = plan(n);
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  transform(pl, x, new Float64Array(n), 0, 1, outRe, outIm, 0);
  const bins = Math.floor(n / 2) + 1;
  return { re: outRe.slice(0, bins), im: outIm.slice(0, bins) };
}
