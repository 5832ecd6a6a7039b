// The fused row kernels of fused-rows.h written once over a vector-traits type V (V512, V256
// or the scalar VScalar): V::T a vector of V::W float32 lanes with load/partial/store/
// store_partial, set1, add/sub/mul/div/fmadd, max, abs, copysign, hsum/hmax and exp. Each
// file that includes this header instantiates `make_row_kernels<V>()` under its own target
// pragma; everything here has internal linkage, so no variant lends code to another.
#pragma once

namespace hearth {
namespace {

template <class V>
struct RowImpl {
  using T = typename V::T;
  static constexpr int64_t W = V::W;

  static T ld(const float* p, int64_t m, float fill) { return m == W ? V::load(p) : V::partial(p, m, fill); }
  static void st(float* p, T v, int64_t m) {
    if (m == W) {
      V::store(p, v);
    } else {
      V::store_partial(p, v, m);
    }
  }
  // f(i, m) for each vector [i, i + m) of a row of n; m < W only for the tail.
  template <class F>
  static void each(int64_t n, const F& f) {
    for (int64_t i = 0; i < n; i += W) f(i, n - i < W ? n - i : W);
  }
  // f(i, m, kc) over a row of n in blocks of kc = 4 whole vectors (at i, i + W, ...) while they
  // last, then one of 2 if there is one (a GEMM tile's row, 2 vectors wide on AVX2, takes the
  // activation this way), then one vector at a time (kc = 1; m < W only for the tail); kc is a
  // std::integral_constant, so a block's vectors are arrays the compiler keeps in registers.
  template <class F>
  static void blocks(int64_t n, const F& f) {
    int64_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) f(i, W, std::integral_constant<int, 4>{});
    if (i + 2 * W <= n) {
      f(i, W, std::integral_constant<int, 2>{});
      i += 2 * W;
    }
    for (; i < n; i += W) f(i, n - i < W ? n - i : W, std::integral_constant<int, 1>{});
  }
  // exp of K vectors in place: by the traits' interleaved `exps` where they have one (AVX2),
  // else one by one; lane for lane the same values either way.
  template <class U, class = void>
  struct HasExps : std::false_type {};
  template <class U>
  struct HasExps<U, std::void_t<decltype(U::template exps<1>(std::declval<typename U::T (&)[1]>()))>>
      : std::true_type {};
  template <int K>
  static void exps(T (&v)[K]) {
    if constexpr (HasExps<V>::value) {
      V::template exps<K>(v);
    } else {
      for (int k = 0; k < K; k++) v[k] = V::exp(v[k]);
    }
  }

  static float row_max(const float* x, int64_t n) {
    T acc = V::set1(-INFINITY);
    each(n, [&](int64_t i, int64_t m) { acc = V::max(acc, ld(x + i, m, -INFINITY)); });
    return V::hmax(acc);
  }
  static float dot(const float* a, const float* b, int64_t n) {
    T acc = V::set1(0.0f);
    each(n, [&](int64_t i, int64_t m) { acc = V::fmadd(ld(a + i, m, 0.0f), ld(b + i, m, 0.0f), acc); });
    return V::hsum(acc);
  }
  static float sum(const float* a, int64_t n) {
    T acc = V::set1(0.0f);
    each(n, [&](int64_t i, int64_t m) { acc = V::add(acc, ld(a + i, m, 0.0f)); });
    return V::hsum(acc);
  }

  // Cross-entropy's row log-sum-exp: max + log Σ exp(x − max), the sum in double lanes.
  static double logsumexp(const float* x, int64_t n) {
    const float m0 = row_max(x, n);
    const T mx = V::set1(m0);
    typename V::D acc = V::dzero();
    // A block's exponentials (each <= 1) are summed in float lanes, then widened into the
    // double sums once: the widening and double adds cost as much as an exp.
    blocks(n, [&](int64_t i, int64_t m, auto kc) {
      constexpr int K = decltype(kc)::value;
      T e[K];
      for (int k = 0; k < K; k++) e[k] = V::sub(ld(x + i + k * W, m, -INFINITY), mx);
      exps(e);
      T s = e[0];
      for (int k = 1; k < K; k++) s = V::add(s, e[k]);
      acc = V::dadd(acc, s);
    });
    return static_cast<double>(m0) + std::log(V::dsum(acc));
  }

  // Cross-entropy's gradient row before the target's share: dx = exp(x − lse)·g − off.
  static void softmax_grad(const float* x, int64_t n, float lse, float g, float off, float* dx) {
    const T vl = V::set1(lse), vg = V::set1(g), vo = V::set1(off);
    blocks(n, [&](int64_t i, int64_t m, auto kc) {
      constexpr int K = decltype(kc)::value;
      T e[K];
      for (int k = 0; k < K; k++) e[k] = V::sub(ld(x + i + k * W, m, 0.0f), vl);
      exps(e);
      for (int k = 0; k < K; k++) st(dx + i + k * W, V::sub(V::mul(e[k], vg), vo), m);
    });
  }

  static void softmax(const float* x, float* y, int64_t n) {
    // A NaN anywhere, or an infinite max, makes exp(x - max) NaN somewhere, so the whole row
    // comes out NaN, as the composite exp(x - max) / sum does.
    const T mx = V::set1(row_max(x, n));
    T acc = V::set1(0.0f);
    each(n, [&](int64_t i, int64_t m) {
      const T e = V::exp(V::sub(ld(x + i, m, -INFINITY), mx));
      acc = V::add(acc, e);
      st(y + i, e, m);
    });
    const T inv = V::set1(1.0f / V::hsum(acc));
    each(n, [&](int64_t i, int64_t m) { st(y + i, V::mul(ld(y + i, m, 0.0f), inv), m); });
  }

  static void log_softmax(const float* x, float* y, int64_t n) {
    float m0 = row_max(x, n);
    if (m0 == INFINITY || m0 == -INFINITY) m0 = 0.0f;  // as logsumexp: shift by 0
    const T mx = V::set1(m0);
    T acc = V::set1(0.0f);
    each(n, [&](int64_t i, int64_t m) { acc = V::add(acc, V::exp(V::sub(ld(x + i, m, -INFINITY), mx))); });
    const T lse = V::set1(m0 + std::log(V::hsum(acc)));
    each(n, [&](int64_t i, int64_t m) { st(y + i, V::sub(ld(x + i, m, 0.0f), lse), m); });
  }

  static void softmax_backward(const float* y, const float* dy, float* dx, int64_t n) {
    const T d = V::set1(dot(dy, y, n));
    each(n, [&](int64_t i, int64_t m) { st(dx + i, V::mul(ld(y + i, m, 0.0f), V::sub(ld(dy + i, m, 0.0f), d)), m); });
  }

  static void log_softmax_backward(const float* y, const float* dy, float* dx, int64_t n) {
    const T s = V::set1(sum(dy, n));
    each(n, [&](int64_t i, int64_t m) {
      const T p = V::exp(ld(y + i, m, 0.0f));
      st(dx + i, V::sub(ld(dy + i, m, 0.0f), V::mul(p, s)), m);
    });
  }

  static void layer_norm(const float* x, const float* w, const float* b, float eps, float* y, int64_t n, float* mean,
                         float* rstd) {
    const float mu = sum(x, n) / static_cast<float>(n);
    const T vm = V::set1(mu);
    T acc = V::set1(0.0f);
    each(n, [&](int64_t i, int64_t m) {
      const T d = m == W ? V::sub(V::load(x + i), vm) : V::sub(V::partial(x + i, m, mu), vm);
      acc = V::fmadd(d, d, acc);
    });
    const float rs = static_cast<float>(1.0 / std::sqrt(static_cast<double>(V::hsum(acc)) / n + eps));
    *mean = mu;
    *rstd = rs;
    const T vr = V::set1(rs);
    each(n, [&](int64_t i, int64_t m) {
      T v = V::mul(V::sub(ld(x + i, m, 0.0f), vm), vr);
      if (w != nullptr) v = V::mul(v, ld(w + i, m, 0.0f));
      if (b != nullptr) v = V::add(v, ld(b + i, m, 0.0f));
      st(y + i, v, m);
    });
  }

  static void layer_norm_backward(const float* x, const float* w, float mean, float rstd, const float* dy, float* dx,
                                  float* dw, float* db, int64_t n) {
    const T vm = V::set1(mean), vr = V::set1(rstd);
    T sa = V::set1(0.0f), sb = V::set1(0.0f);  // sum g, sum g xh
    each(n, [&](int64_t i, int64_t m) {
      const T xh = V::mul(V::sub(ld(x + i, m, 0.0f), vm), vr);
      T g = ld(dy + i, m, 0.0f);
      if (w != nullptr) g = V::mul(g, ld(w + i, m, 0.0f));
      sa = V::add(sa, g);
      sb = V::fmadd(g, xh, sb);
    });
    const T ma = V::set1(V::hsum(sa) / static_cast<float>(n));
    const T mb = V::set1(V::hsum(sb) / static_cast<float>(n));
    each(n, [&](int64_t i, int64_t m) {
      const T xh = V::mul(V::sub(ld(x + i, m, 0.0f), vm), vr);
      const T d = ld(dy + i, m, 0.0f);
      const T g = w != nullptr ? V::mul(d, ld(w + i, m, 0.0f)) : d;
      // rstd (g - ma - xh mb)
      st(dx + i, V::mul(vr, V::sub(V::sub(g, ma), V::mul(xh, mb))), m);
      if (dw != nullptr) st(dw + i, V::fmadd(d, xh, ld(dw + i, m, 0.0f)), m);
      if (db != nullptr) st(db + i, V::add(d, ld(db + i, m, 0.0f)), m);
    });
  }

  static void rms_norm(const float* x, const float* w, float eps, float* y, int64_t n, float* rstd) {
    const float rs = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dot(x, x, n)) / n + eps));
    *rstd = rs;
    const T vr = V::set1(rs);
    each(n, [&](int64_t i, int64_t m) {
      T v = V::mul(ld(x + i, m, 0.0f), vr);
      if (w != nullptr) v = V::mul(v, ld(w + i, m, 0.0f));
      st(y + i, v, m);
    });
  }

  static void rms_norm_backward(const float* x, const float* w, float rstd, const float* dy, float* dx, float* dw,
                                int64_t n) {
    const T vr = V::set1(rstd);
    T sb = V::set1(0.0f);
    each(n, [&](int64_t i, int64_t m) {
      const T xh = V::mul(ld(x + i, m, 0.0f), vr);
      T g = ld(dy + i, m, 0.0f);
      if (w != nullptr) g = V::mul(g, ld(w + i, m, 0.0f));
      sb = V::fmadd(g, xh, sb);
    });
    const T mb = V::set1(V::hsum(sb) / static_cast<float>(n));
    each(n, [&](int64_t i, int64_t m) {
      const T xh = V::mul(ld(x + i, m, 0.0f), vr);
      const T d = ld(dy + i, m, 0.0f);
      const T g = w != nullptr ? V::mul(d, ld(w + i, m, 0.0f)) : d;
      st(dx + i, V::mul(vr, V::sub(g, V::mul(xh, mb))), m);
      if (dw != nullptr) st(dw + i, V::fmadd(d, xh, ld(dw + i, m, 0.0f)), m);
    });
  }

  // Φ(x) = ½ erfc(-x/√2), with erfc(z) for z >= 0 from Numerical Recipes' Chebyshev fit
  // (relative error < 1.2e-7 for every z), and erfc(-z) = 2 - erfc(z). In two halves around
  // its exp (so that a block's exps run together): phi_parts gives t and the exp's argument,
  // phi_from(x, t, exp(argument)) is Φ(x).
  struct PhiParts {
    T t, arg;
  };
  static PhiParts phi_parts(T x) {
    const T z = V::mul(V::abs(x), V::set1(0.70710678118654752f));
    const T t = V::div(V::set1(1.0f), V::fmadd(V::set1(0.5f), z, V::set1(1.0f)));
    T p = V::set1(0.17087277f);
    p = V::fmadd(p, t, V::set1(-0.82215223f));
    p = V::fmadd(p, t, V::set1(1.48851587f));
    p = V::fmadd(p, t, V::set1(-1.13520398f));
    p = V::fmadd(p, t, V::set1(0.27886807f));
    p = V::fmadd(p, t, V::set1(-0.18628806f));
    p = V::fmadd(p, t, V::set1(0.09678418f));
    p = V::fmadd(p, t, V::set1(0.37409196f));
    p = V::fmadd(p, t, V::set1(1.00002368f));
    p = V::fmadd(p, t, V::set1(-1.26551223f));
    return {t, V::sub(p, V::mul(z, z))};
  }
  static T phi_from(T x, T t, T e) {
    const T erfc = V::mul(t, e);
    // Φ = ½erfc(|x|/√2) for x < 0, 1 - ½erfc(|x|/√2) otherwise: ½ + copysign(½ - ½erfc, x)
    const T half = V::set1(0.5f);
    return V::add(half, V::copysign(V::sub(half, V::mul(half, erfc)), x));
  }
  // σ(a) = 1 / (1 + e), e = exp(-a).
  static T sigmoid_from(T e) {
    const T one = V::set1(1.0f);
    return V::div(one, V::add(one, e));
  }
  // 2u for gelu tanh, and its derivative 2u'
  static T gelu_tanh_2u(T x) {
    const T x2 = V::mul(x, x);
    return V::mul(V::mul(x, V::set1(2.0f * 0.7978845608028654f)), V::fmadd(x2, V::set1(0.044715f), V::set1(1.0f)));
  }

  static void activation(Activation op, const float* x, float* y, int64_t n) {
    blocks(n, [&](int64_t i, int64_t m, auto kc) {
      constexpr int K = decltype(kc)::value;
      T v[K], e[K], t[K];
      for (int k = 0; k < K; k++) v[k] = ld(x + i + k * W, m, 0.0f);
      if (op == Activation::kGelu) {
        for (int k = 0; k < K; k++) {
          const PhiParts q = phi_parts(v[k]);
          t[k] = q.t, e[k] = q.arg;
        }
        exps(e);
        for (int k = 0; k < K; k++) st(y + i + k * W, V::mul(v[k], phi_from(v[k], t[k], e[k])), m);
        return;
      }
      // gelu tanh x·σ(2u), silu x·σ(x)
      for (int k = 0; k < K; k++) e[k] = V::sub(V::set1(0.0f), op == Activation::kGeluTanh ? gelu_tanh_2u(v[k]) : v[k]);
      exps(e);
      for (int k = 0; k < K; k++) st(y + i + k * W, V::mul(v[k], sigmoid_from(e[k])), m);
    });
  }

  static void activation_backward(Activation op, const float* x, const float* dy, float* dx, int64_t n) {
    const T one = V::set1(1.0f);
    blocks(n, [&](int64_t i, int64_t m, auto kc) {
      constexpr int K = decltype(kc)::value;
      T v[K], e[K], d[K];
      for (int k = 0; k < K; k++) v[k] = ld(x + i + k * W, m, 0.0f);
      if (op == Activation::kGelu) {
        // Φ(x) + x φ(x), φ(x) = exp(-x²/2)/√(2π)
        T t[K], a[K];
        for (int k = 0; k < K; k++) {
          const PhiParts q = phi_parts(v[k]);
          t[k] = q.t, e[k] = q.arg;
          a[k] = V::mul(V::mul(v[k], v[k]), V::set1(-0.5f));
        }
        exps(e);
        exps(a);
        for (int k = 0; k < K; k++)
          d[k] = V::fmadd(v[k], V::mul(a[k], V::set1(0.3989422804014327f)), phi_from(v[k], t[k], e[k]));
      } else if (op == Activation::kGeluTanh) {
        // s + x·s(1 - s)·2u', s = σ(2u), 2u' = 2√(2/π)(1 + 3·0.044715 x²)
        for (int k = 0; k < K; k++) e[k] = V::sub(V::set1(0.0f), gelu_tanh_2u(v[k]));
        exps(e);
        for (int k = 0; k < K; k++) {
          const T s = sigmoid_from(e[k]);
          const T du = V::mul(V::set1(2.0f * 0.7978845608028654f),
                              V::fmadd(V::mul(v[k], v[k]), V::set1(3.0f * 0.044715f), one));
          d[k] = V::fmadd(V::mul(v[k], V::mul(s, V::sub(one, s))), du, s);
        }
      } else {
        // σ(x)(1 + x(1 - σ(x)))
        for (int k = 0; k < K; k++) e[k] = V::sub(V::set1(0.0f), v[k]);
        exps(e);
        for (int k = 0; k < K; k++) {
          const T s = sigmoid_from(e[k]);
          d[k] = V::mul(s, V::fmadd(v[k], V::sub(one, s), one));
        }
      }
      for (int k = 0; k < K; k++) st(dx + i + k * W, V::mul(ld(dy + i + k * W, m, 0.0f), d[k]), m);
    });
  }
};

template <class V>
constexpr RowKernels make_row_kernels(const char* name) {
  using R = RowImpl<V>;
  return RowKernels{name,
                    R::softmax,
                    R::log_softmax,
                    R::softmax_backward,
                    R::log_softmax_backward,
                    R::layer_norm,
                    R::layer_norm_backward,
                    R::rms_norm,
                    R::rms_norm_backward,
                    R::logsumexp,
                    R::softmax_grad,
                    R::activation,
                    R::activation_backward};
}

}  // namespace
}  // namespace hearth
