// AVX-512 BLAS-1 kernels for f64, f32, f16 and bf16 with unit strides (strided calls fall
// through to the portable kernels). Memory-bound: the aim is to keep the load ports busy
// with four independent accumulators per thread and no scalar work in the loop; f16/bf16
// widen to f32 in registers, so they move half the bytes of f32 for the same flops.
#include "kernels/common/blas1_chunked.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"

namespace mixprec::kern::avx512 {
namespace {

using detail::exec_args;

/// Which vector type computes T in a given accumulation mode.
template <class T>
using compute_vec = std::conditional_t<std::is_same_v<T, double>, f64x8, f32x16>;

/// Runs step(acc, i, k) over [0, n) in blocks of V::width (k < width only for the last
/// block), with four accumulators per chunk, chunks in parallel, partials merged in order.
template <class V, class VAcc, class SAcc, class Step>
void vreduce(const exec_args& ex, idx n, SAcc& total, Step step) {
  constexpr idx w = V::width;
  const int chunks = chunks_for<true>(ex, n);
  SAcc partial[detail::max_chunks];
  detail::parallel_chunks(chunks, [&](int c) {
    idx b, e;
    detail::chunk_range(n, chunks, c, 64, &b, &e);
    VAcc a0, a1, a2, a3;
    idx i = b;
    for (; i + 4 * w <= e; i += 4 * w) {
      step(a0, i, w);
      step(a1, i + w, w);
      step(a2, i + 2 * w, w);
      step(a3, i + 3 * w, w);
    }
    for (; i + w <= e; i += w) step(a0, i, w);
    if (i < e) step(a1, i, e - i);
    a0.merge(a1);
    a2.merge(a3);
    a0.merge(a2);
    SAcc s;
    a0.drain(s);
    partial[c] = s;
  });
  for (int c = 0; c < chunks; ++c) total.merge(partial[c]);
}

template <class V, class T>
V load_block(const T* p, idx k) {
  return k == V::width ? V::load(p) : V::load_tail(p, k);
}

/// Calls f(V{}, VAcc{}, SAcc&) with the vector and accumulator types that the contract
/// prescribes for T and `mode`, then writes the value of the scalar accumulator.
template <class T, class F>
void with_vector_accumulator(accumulation mode, double* result, F&& f) {
  using C = compute_t<T>;
  using VC = compute_vec<T>;
  if (mode == accumulation::compensated) {
    compensated_sum<C> s;
    f(VC{}, vcompensated<VC>{}, s);
    *result = s.value();
  } else if (mode == accumulation::f64) {
    plain_sum<double> s;
    f(f64x8{}, vplain<f64x8>{}, s);
    *result = s.value();
  } else {
    plain_sum<C> s;
    f(VC{}, vplain<VC>{}, s);
    *result = s.value();
  }
}

template <class T>
struct blas1 {
  using C = compute_t<T>;
  using V = compute_vec<T>;

  static void fill(const exec_args& ex, idx n, double value, void* xv, idx) {
    T* x = static_cast<T*>(xv);
    // Round once to T, then widen exactly: the stores reproduce that rounding exactly.
    const V v = V::broadcast(C(widen(from_f64<T>(value))));
    for_chunks<true>(ex, n, [&](idx b, idx e) {
      idx i = b;
      for (; i + V::width <= e; i += V::width) v.store(x + i);
      if (i < e) v.store_tail(x + i, e - i);
    });
  }

  static void axpy(const exec_args& ex, idx n, double alpha, const void* xv, idx, void* yv, idx) {
    const T* x = static_cast<const T*>(xv);
    T* y = static_cast<T*>(yv);
    const V a = V::broadcast(C(alpha));
    for_chunks<true>(ex, n, [&](idx b, idx e) {
      idx i = b;
      for (; i + V::width <= e; i += V::width) V::fma(a, V::load(x + i), V::load(y + i)).store(y + i);
      if (i < e) {
        const idx k = e - i;
        V::fma(a, V::load_tail(x + i, k), V::load_tail(y + i, k)).store_tail(y + i, k);
      }
    });
  }

  static void scal(const exec_args& ex, idx n, double alpha, void* xv, idx) {
    T* x = static_cast<T*>(xv);
    const V a = V::broadcast(C(alpha));
    for_chunks<true>(ex, n, [&](idx b, idx e) {
      idx i = b;
      for (; i + V::width <= e; i += V::width) (a * V::load(x + i)).store(x + i);
      if (i < e) (a * V::load_tail(x + i, e - i)).store_tail(x + i, e - i);
    });
  }

  static void dot(const exec_args& ex, idx n, const void* xv, idx, const void* yv, idx,
                  accumulation mode, double* result) {
    const T* x = static_cast<const T*>(xv);
    const T* y = static_cast<const T*>(yv);
    with_vector_accumulator<T>(mode, result, [&](auto vt, auto acc_t, auto& total) {
      using W = decltype(vt);
      vreduce<W, decltype(acc_t)>(ex, n, total, [&](auto& acc, idx i, idx k) {
        acc.add_product(load_block<W>(x + i, k), load_block<W>(y + i, k));
      });
    });
  }

  static void sumsq(const exec_args& ex, idx n, const void* xv, idx incx, double scale,
                    accumulation mode, double* result) {
    const T* x = static_cast<const T*>(xv);
    const bool f64_acc = mode == accumulation::f64 || std::is_same_v<T, double>;
    if (scale != 1.0 && !f64_acc) {
      // A rescaling pass (rare: nrm2 left the f32 range): the scale may not be an f32, so
      // use the portable loop, which forms the products in f64.
      chunked<true>::blas1<T>::sumsq(ex, n, xv, incx, scale, mode, result);
      return;
    }
    with_vector_accumulator<T>(mode, result, [&](auto vt, auto acc_t, auto& total) {
      using W = decltype(vt);
      const W s = W::broadcast(typename W::scalar(scale));
      vreduce<W, decltype(acc_t)>(ex, n, total, [&](auto& acc, idx i, idx k) {
        const W v = scale == 1.0 ? load_block<W>(x + i, k) : s * load_block<W>(x + i, k);
        acc.add_product(v, v);
      });
    });
  }

  static void asum(const exec_args& ex, idx n, const void* xv, idx, accumulation mode,
                   double* result) {
    const T* x = static_cast<const T*>(xv);
    with_vector_accumulator<T>(mode, result, [&](auto vt, auto acc_t, auto& total) {
      using W = decltype(vt);
      vreduce<W, decltype(acc_t)>(ex, n, total, [&](auto& acc, idx i, idx k) {
        acc.add(load_block<W>(x + i, k).abs());
      });
    });
  }

  /// Two passes per chunk: the largest |x| (and whether a NaN is present), then the first
  /// index holding it. Each chunk reads its part twice, from cache for chunks that fit.
  static void amax(const exec_args& ex, idx n, const void* xv, idx, idx* result) {
    const T* x = static_cast<const T*>(xv);
    *result = amax_chunks<true>(ex, n, [&](idx b, idx e, double* best) { return chunk_amax(x, b, e, best); });
  }

 private:
  static idx chunk_amax(const T* x, idx b, idx e, double* best) {
    constexpr idx w = V::width;
    V m = V::zero();
    bool nan = false;
    idx i = b;
    for (; i < e; i += w) {
      const V a = load_block<V>(x + i, std::min(w, e - i)).abs();
      if constexpr (std::is_same_v<V, f32x16>) {
        nan |= _mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q) != 0;
        m.v = _mm512_max_ps(m.v, a.v);
      } else {
        nan |= _mm512_cmp_pd_mask(a.v, a.v, _CMP_UNORD_Q) != 0;
        m.v = _mm512_max_pd(m.v, a.v);
      }
    }
    if (nan) return amax_range(b, e, x, 1, best);  // the first NaN, found by the scalar scan
    C top;
    if constexpr (std::is_same_v<V, f32x16>)
      top = _mm512_reduce_max_ps(m.v);
    else
      top = _mm512_reduce_max_pd(m.v);
    *best = double(top);
    const V t = V::broadcast(top);
    for (i = b; i < e; i += w) {
      const idx k = std::min(w, e - i);
      const V a = load_block<V>(x + i, k).abs();
      unsigned mask;
      if constexpr (std::is_same_v<V, f32x16>)
        mask = _mm512_cmp_ps_mask(a.v, t.v, _CMP_EQ_OQ);
      else
        mask = _mm512_cmp_pd_mask(a.v, t.v, _CMP_EQ_OQ);
      mask &= (k == w) ? ~0u : ((1u << k) - 1u);
      if (mask) return i + __builtin_ctz(mask);
    }
    return b;  // not reached: the maximum is one of the elements
  }
};

template <class Src, class Dst>
struct convert {
  /// 16 lanes through f32 when neither side is f64, else 8 lanes through f64 (one rounding
  /// at the store either way).
  using V = std::conditional_t<std::is_same_v<Src, double> || std::is_same_v<Dst, double>, f64x8, f32x16>;
  static void run(const exec_args& ex, idx n, const void* xv, idx, void* yv, idx) {
    const Src* x = static_cast<const Src*>(xv);
    Dst* y = static_cast<Dst*>(yv);
    for_chunks<true>(ex, n, [&](idx b, idx e) {
      idx i = b;
      for (; i + V::width <= e; i += V::width) V::load(x + i).store(y + i);
      if (i < e) V::load_tail(x + i, e - i).store_tail(y + i, e - i);
    });
  }
};

}  // namespace
}  // namespace mixprec::kern::avx512

// Kernel pointers for this folder's registration file (compiled without AVX-512 flags).
#include "kernels/cpu/avx512/kernels_avx512.hpp"

namespace mixprec::kern::avx512 {
#define MIXPREC_DEFINE(T, N) \
  const blas1_table blas1_##N = table_of<blas1<T>>();
MIXPREC_AVX512_BLAS1_TYPES(MIXPREC_DEFINE)
#undef MIXPREC_DEFINE
#define MIXPREC_DEFINE(S, SN, D, DN) \
  const detail::convert_fn convert_##SN##_##DN = &convert<S, D>::run;
MIXPREC_AVX512_CONVERT_PAIRS(MIXPREC_DEFINE)
#undef MIXPREC_DEFINE
}  // namespace mixprec::kern::avx512
