// Box–Muller's transcendental half for the random fill (random.h), written once over a vector
// traits type D: D::T holds D::W doubles; load/store, set1, add/sub/mul/div, fma, sqrt, floor,
// nearest, gt01 (1.0 where a > b, else 0.0) and bits/from_bits for the exponent. Each arch file
// instantiates `box_muller_impl<D>` under its own target pragma (internal linkage).
//   xc[i] = r·cos(2πv), xs[i] = r·sin(2πv), r = √(−2 ln u), for m pairs (m a multiple of D::W)
// θ = 2πv and the products are rounded exactly as in JavaScript; ln, sin and cos are this
// file's own polynomials, within a few ulps of exact (random.cpp bounds the difference from
// V8's by 2^-40 relative and leaves anything closer to a rounding boundary to js).
#pragma once
#include <cstdint>

namespace hearth {
namespace {

template <class D>
struct BoxMuller {
  using T = typename D::T;

  // ln u for u in [2^-53, 1): u = 2^e·m with m in [√2/2, √2), s = (m − 1)/(m + 1),
  // ln m = 2s + s·Σ_{k=1..11} 2z^k/(2k+1) with z = s² (|s| <= 0.1716, so z^12 is below 2^-60).
  static T log(T u) {
    const T exp_field = D::srl52(u);  // biased exponent as a double (u is positive and normal)
    T m = D::mantissa(u);             // [1, 2)
    const T big = D::gt01(m, D::set1(1.4142135623730951));
    m = D::mul(m, D::sub(D::set1(1.0), D::mul(big, D::set1(0.5))));
    const T e = D::add(D::sub(exp_field, D::set1(1023.0)), big);
    const T f = D::sub(m, D::set1(1.0));
    const T s = D::div(f, D::add(D::set1(2.0), f));
    const T z = D::mul(s, s);
    T p = D::set1(2.0 / 23);
    for (const double c : {2.0 / 21, 2.0 / 19, 2.0 / 17, 2.0 / 15, 2.0 / 13, 2.0 / 11, 2.0 / 9, 2.0 / 7, 2.0 / 5, 2.0 / 3})
      p = D::fma(p, z, D::set1(c));
    const T lnm = D::fma(D::mul(s, z), p, D::add(s, s));
    // e·ln 2 in two parts: the high part has trailing zeros, so e·hi is exact.
    const T hi = D::set1(6.93147180369123816490e-01), lo = D::set1(1.90821492927058770002e-10);
    return D::add(D::mul(e, hi), D::fma(e, lo, lnm));
  }

  // sin and cos of th in [0, 2π): th = k·π/2 + t, |t| <= π/4 (t exact up to one rounding), then
  // Taylor polynomials through t^17 and t^18 and the quadrant's swap and signs.
  static void sincos(T th, T* sn, T* cs) {
    const T k = D::nearest(D::mul(th, D::set1(0.63661977236758134308)));
    T t = D::fma(k, D::set1(-1.5707963267948966), th);
    t = D::fma(k, D::set1(-6.123233995736766e-17), t);
    const T z = D::mul(t, t);
    static constexpr double kSin[] = {-1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880, -1.0 / 39916800,
                                      1.0 / 6227020800, -1.0 / 1307674368000, 1.0 / 355687428096000};
    static constexpr double kCos[] = {-1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320, -1.0 / 3628800,
                                      1.0 / 479001600, -1.0 / 87178291200, 1.0 / 20922789888000,
                                      -1.0 / 6402373705728000};
    T ps = D::set1(kSin[7]);
    for (int i = 6; i >= 0; i--) ps = D::fma(ps, z, D::set1(kSin[i]));
    T pc = D::set1(kCos[8]);
    for (int i = 7; i >= 0; i--) pc = D::fma(pc, z, D::set1(kCos[i]));
    const T st = D::fma(D::mul(t, z), ps, t);
    const T ct = D::fma(z, pc, D::set1(1.0));
    // Quadrant q = k mod 4 as bits q1 (odd) and q2 (q >= 2), all small exact doubles.
    const T half = D::floor(D::mul(k, D::set1(0.5)));
    const T q1 = D::sub(k, D::add(half, half));
    const T q2 = D::sub(half, D::add(D::floor(D::mul(half, D::set1(0.5))), D::floor(D::mul(half, D::set1(0.5)))));
    const T one = D::set1(1.0);
    const T swap_s = D::add(D::mul(q1, ct), D::mul(D::sub(one, q1), st));
    const T swap_c = D::add(D::mul(q1, st), D::mul(D::sub(one, q1), ct));
    const T sign_s = D::sub(one, D::add(q2, q2));
    const T x = D::sub(D::add(q1, q2), D::mul(D::add(q1, q1), q2));  // q1 xor q2
    const T sign_c = D::sub(one, D::add(x, x));
    *sn = D::mul(sign_s, swap_s);
    *cs = D::mul(sign_c, swap_c);
  }

  static void run(const double* u, const double* v, int64_t m, double* xc, double* xs) {
    const T two_pi = D::set1(2 * 3.141592653589793);
    for (int64_t i = 0; i < m; i += D::W) {
      const T r = D::sqrt(D::mul(D::set1(-2.0), log(D::load(u + i))));
      T sn, cs;
      sincos(D::mul(two_pi, D::load(v + i)), &sn, &cs);
      D::store(xc + i, D::mul(r, cs));
      D::store(xs + i, D::mul(r, sn));
    }
  }
};

}  // namespace
}  // namespace hearth
