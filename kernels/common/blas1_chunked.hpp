// BLAS-1 kernels built from the scalar loop bodies, run either on one thread (the `_ref`
// kernels: the fallback and the oracle) or cut into chunks on the CPU threads (the portable
// `_omp` kernels, vectorised by the compiler). Reductions keep one partial per chunk and
// merge them in chunk order, so the result does not depend on scheduling.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>

#include "internal/parallel.hpp"
#include "internal/registry.hpp"
#include "kernels/common/blas1_loops.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

// Elementwise chunks below this many elements are not worth a thread.
inline constexpr idx min_chunk_elements = 1 << 15;

template <bool Parallel>
inline int chunks_for(const detail::exec_args& ex, idx n) {
  return Parallel ? detail::chunk_count(n, ex.threads, min_chunk_elements) : 1;
}

/// Threads for row_dots: one per 32 Ki elements of the rows, at most ex.threads.
inline int row_dot_chunks(const detail::exec_args& ex, idx rows, idx len) {
  return int(std::clamp<double>(double(rows) * double(len) / double(1 << 15), 1.0,
                                double(std::min<idx>(rows > 0 ? rows : 1, ex.threads))));
}

/// Runs body(b, e) over [0, n) in chunks.
template <bool Parallel, class Body>
inline void for_chunks(const detail::exec_args& ex, idx n, Body&& body) {
  const int chunks = chunks_for<Parallel>(ex, n);
  detail::parallel_chunks(chunks, [&](int c) {
    idx b, e;
    detail::chunk_range(n, chunks, c, 64, &b, &e);
    body(b, e);
  });
}

/// K reductions over [0, n) in one pass: body(b, e, acc, tag) per chunk into K per-chunk
/// accumulators acc[0..K) that are merged in chunk order; the results go to result[0..K).
template <class T, int K, bool Parallel, class Body>
inline void reduce_chunks_n(const detail::exec_args& ex, idx n, accumulation mode, double* result, Body&& body) {
  with_accumulator<T>(mode, [&](auto& zero, auto tag) {
    using Acc = std::remove_reference_t<decltype(zero)>;
    struct sums {
      Acc a[K];
    };
    const int chunks = chunks_for<Parallel>(ex, n);
    sums total;
    if (chunks == 1) {  // short vectors: no table of partials to clear
      detail::parallel_chunks(1, [&](int) { body(idx(0), n, total.a, tag); });
    } else {
      sums partial[detail::max_chunks];
      detail::parallel_chunks(chunks, [&](int c) {
        idx b, e;
        detail::chunk_range(n, chunks, c, 64, &b, &e);
        body(b, e, partial[c].a, tag);
      });
      for (int c = 0; c < chunks; ++c)
        for (int j = 0; j < K; ++j) total.a[j].merge(partial[c].a[j]);
    }
    for (int j = 0; j < K; ++j) result[j] = total.a[j].value();
  });
}

/// One reduction over [0, n): body(b, e, acc, tag) per chunk; the result to *result.
template <class T, bool Parallel, class Body>
inline void reduce_chunks(const detail::exec_args& ex, idx n, accumulation mode, double* result, Body&& body) {
  reduce_chunks_n<T, 1, Parallel>(ex, n, mode, result,
                                  [&](idx b, idx e, auto* acc, auto tag) { body(b, e, acc[0], tag); });
}

/// amax over [0, n): chunk_amax(b, e, &best) gives each chunk's first index of largest
/// magnitude; chunks are compared in order, so earlier chunks win ties. -1 for n == 0.
template <bool Parallel, class ChunkAmax>
inline idx amax_chunks(const detail::exec_args& ex, idx n, ChunkAmax&& chunk_amax) {
  if (n == 0) return -1;
  const int chunks = chunks_for<Parallel>(ex, n);
  idx at[detail::max_chunks];
  double best[detail::max_chunks];
  detail::parallel_chunks(chunks, [&](int c) {
    idx b, e;
    detail::chunk_range(n, chunks, c, 64, &b, &e);
    at[c] = chunk_amax(b, e, &best[c]);
  });
  idx r = at[0];
  double m = best[0];
  for (int c = 1; c < chunks; ++c)
    if (magnitude_greater(best[c], m)) {  // strict: earlier chunks win ties
      r = at[c];
      m = best[c];
    }
  return r;
}

template <bool Parallel>
struct chunked {
  template <class T>
  struct blas1 {
    using C = compute_t<T>;
    static void fill(const detail::exec_args& ex, idx n, double value, void* x, idx incx) {
      const T v = from_f64<T>(value);
      for_chunks<Parallel>(ex, n, [&](idx b, idx e) { fill_range(b, e, v, static_cast<T*>(x), incx); });
    }
    static void axpy(const detail::exec_args& ex, idx n, double alpha, const void* x, idx incx, void* y, idx incy) {
      for_chunks<Parallel>(ex, n, [&](idx b, idx e) {
        axpy_range(b, e, C(alpha), static_cast<const T*>(x), incx, static_cast<T*>(y), incy);
      });
    }
    static void axpby(const detail::exec_args& ex, idx n, double alpha, const void* x, idx incx, double beta, void* y,
                      idx incy) {
      for_chunks<Parallel>(ex, n, [&](idx b, idx e) {
        axpby_range(b, e, C(alpha), static_cast<const T*>(x), incx, C(beta), static_cast<T*>(y), incy);
      });
    }
    static void cg_update(const detail::exec_args& ex, idx n, double alpha, const void* p, const void* q, void* x,
                          void* r, double* rr) {
      reduce_chunks_n<T, 1, Parallel>(ex, n, accumulation::f64, rr, [&](idx b, idx e, auto* a, auto tag) {
        cg_update_range(b, e, C(alpha), static_cast<const T*>(p), static_cast<const T*>(q),
                        static_cast<const T*>(nullptr), static_cast<T*>(x), static_cast<T*>(r), a, tag);
      });
    }
    static void diag_scale(const detail::exec_args& ex, idx n, double alpha, const void* d, const void* r, double beta,
                           void* z) {
      for_chunks<Parallel>(ex, n, [&](idx b, idx e) {
        diag_scale_range(b, e, C(alpha), static_cast<const T*>(d), static_cast<const T*>(r), C(beta),
                         static_cast<T*>(z));
      });
    }
    static void pcg_jacobi_update(const detail::exec_args& ex, idx n, double alpha, const void* p, const void* q,
                                  const void* d, void* x, void* r, double* rr) {
      reduce_chunks_n<T, 2, Parallel>(ex, n, accumulation::f64, rr, [&](idx b, idx e, auto* a, auto tag) {
        cg_update_range(b, e, C(alpha), static_cast<const T*>(p), static_cast<const T*>(q), static_cast<const T*>(d),
                        static_cast<T*>(x), static_cast<T*>(r), a, tag);
      });
    }
    static void scal(const detail::exec_args& ex, idx n, double alpha, void* x, idx incx) {
      for_chunks<Parallel>(ex, n, [&](idx b, idx e) { scal_range(b, e, C(alpha), static_cast<T*>(x), incx); });
    }
    /// out[i] += alpha * row_i' y, f64 products and sums (four partial sums per row), rows
    /// over the threads.
    static void row_dots(const detail::exec_args& ex, idx rows, idx len, const void* av, idx lda, const double* y,
                         double alpha, double* out) {
      const T* a = static_cast<const T*>(av);
      const int chunks = Parallel ? row_dot_chunks(ex, rows, len) : 1;
      detail::parallel_chunks(chunks, [&](int c) {
        idx b, e;
        detail::chunk_range(rows, chunks, c, 1, &b, &e);
        for (idx i = b; i < e; ++i) {
          const T* r = a + i * lda;
          double s[4] = {0, 0, 0, 0};
          idx j = 0;
          for (; j + 4 <= len; j += 4)
            for (int q = 0; q < 4; ++q) s[q] += double(r[j + q]) * y[j + q];
          for (; j < len; ++j) s[0] += double(r[j]) * y[j];
          out[i] += alpha * ((s[0] + s[1]) + (s[2] + s[3]));
        }
      });
    }
    /// One f64 accumulator per vector and chunk, chunks merged in order.
    static void mdot(const detail::exec_args& ex, idx n, int k, const void* v, idx ldv, const void* w, double* h) {
      const int chunks = chunks_for<Parallel>(ex, n);
      local_vector<plain_sum<double>> partial(std::size_t(chunks) * std::size_t(k));  // chunk c's at c*k
      detail::parallel_chunks(chunks, [&](int c) {
        idx b, e;
        detail::chunk_range(n, chunks, c, 64, &b, &e);
        mdot_range(b, e, k, static_cast<const T*>(v), ldv, static_cast<const T*>(w),
                   partial.data() + std::size_t(c * k), double{});
      });
      for (int j = 0; j < k; ++j) {
        plain_sum<double> total;
        for (int c = 0; c < chunks; ++c) total.merge(partial[std::size_t(c * k + j)]);
        h[j] = total.value();
      }
    }
    static void maxpy(const detail::exec_args& ex, idx n, int k, const double* a, const void* v, idx ldv, void* w) {
      C coefficients[detail::multi_vector_max];
      for (int j = 0; j < k; ++j) coefficients[j] = C(a[j]);
      for_chunks<Parallel>(ex, n, [&](idx b, idx e) {
        maxpy_range(b, e, k, coefficients, static_cast<const T*>(v), ldv, static_cast<T*>(w));
      });
    }
    /// Two f64 accumulators per vector and chunk, chunks merged in order.
    static void mdot2(const detail::exec_args& ex, idx n, int k, const void* v, idx ldv, const void* x, const void* y,
                      double* hx, double* hy) {
      const int chunks = chunks_for<Parallel>(ex, n);
      const std::size_t per_chunk = 2 * std::size_t(k);
      local_vector<plain_sum<double>> partial(std::size_t(chunks) * per_chunk);  // chunk c's at c*2k
      detail::parallel_chunks(chunks, [&](int c) {
        idx b, e;
        detail::chunk_range(n, chunks, c, 64, &b, &e);
        plain_sum<double>* mine = partial.data() + std::size_t(c) * per_chunk;  // (k = 0: none)
        mdot2_range(b, e, k, static_cast<const T*>(v), ldv, static_cast<const T*>(x), static_cast<const T*>(y), mine,
                    mine + k, double{});
      });
      for (int j = 0; j < k; ++j) {
        plain_sum<double> tx, ty;
        for (int c = 0; c < chunks; ++c) {
          tx.merge(partial[std::size_t(c) * per_chunk + std::size_t(j)]);
          ty.merge(partial[std::size_t(c) * per_chunk + std::size_t(k + j)]);
        }
        hx[j] = tx.value();
        hy[j] = ty.value();
      }
    }
    static void dcgs2_update(const detail::exec_args& ex, idx n, int k, const void* v, idx ldv, const double* s,
                             const double* t, double inv_rho, double gamma, double scale, void* x, void* y,
                             double* yy) {
      local_vector<C> sc(static_cast<std::size_t>(k)), tc(static_cast<std::size_t>(k));
      for (int j = 0; j < k; ++j) {
        sc[std::size_t(j)] = C(s[j]);
        tc[std::size_t(j)] = C(t[j]);
      }
      reduce_chunks_n<T, 1, Parallel>(ex, n, accumulation::f64, yy, [&](idx b, idx e, auto* a, auto tag) {
        dcgs2_update_range(b, e, k, sc.data(), tc.data(), static_cast<const T*>(v), ldv, C(inv_rho), C(gamma), C(scale),
                           static_cast<T*>(x), static_cast<T*>(y), a, tag);
      });
    }
    static void dot(const detail::exec_args& ex, idx n, const void* x, idx incx, const void* y, idx incy,
                    accumulation acc, double* result) {
      reduce_chunks<T, Parallel>(ex, n, acc, result, [&](idx b, idx e, auto& a, auto tag) {
        dot_range(b, e, static_cast<const T*>(x), incx, static_cast<const T*>(y), incy, a, tag);
      });
    }
    static void sumsq(const detail::exec_args& ex, idx n, const void* x, idx incx, double scale, accumulation acc,
                      double* result) {
      reduce_chunks<T, Parallel>(ex, n, acc, result, [&](idx b, idx e, auto& a, auto tag) {
        sumsq_range(b, e, static_cast<const T*>(x), incx, scale, a, tag);
      });
    }
    static void asum(const detail::exec_args& ex, idx n, const void* x, idx incx, accumulation acc, double* result) {
      reduce_chunks<T, Parallel>(ex, n, acc, result, [&](idx b, idx e, auto& a, auto tag) {
        asum_range(b, e, static_cast<const T*>(x), incx, a, tag);
      });
    }
    static void amax(const detail::exec_args& ex, idx n, const void* x, idx incx, idx* result) {
      *result = amax_chunks<Parallel>(
          ex, n, [&](idx b, idx e, double* best) { return amax_range(b, e, static_cast<const T*>(x), incx, best); });
    }
  };

  template <class Src, class Dst>
  struct convert {
    static void run(const detail::exec_args& ex, idx n, const void* x, idx incx, void* y, idx incy) {
      for_chunks<Parallel>(ex, n, [&](idx b, idx e) {
        convert_range(b, e, static_cast<const Src*>(x), incx, static_cast<Dst*>(y), incy);
      });
    }
  };
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
