// BLAS-1 kernels for f64, f32, f16 and bf16 with unit strides, written once over a folder's
// vector types (strided calls fall through to the portable kernels). Memory-bound: the aim
// is to keep the load ports busy with four independent accumulators per thread and no
// scalar work in the loop; f16/bf16 widen to f32 in registers, so they move half the bytes
// of f32 for the same flops.
//
// `Lanes` names the folder's two vector types, Lanes::f64 and Lanes::f32, each with
//   scalar, width, zero(), broadcast(s), load<T>(p), load_halves<T>(p) (the same value; loads
//   wider than 32 bytes split in two), load_tail<T>(p, k) (other lanes 0),
//   store<T>(p), store_tail<T>(p, k) (rounding once to T), + - *, fma(a, b, c) = a*b + c,
//   fms(a, b, c) = a*b - c, abs(), lanes(out), max(a, b), has_nan(),
//   reduce_max() (of lanes without NaN), equal_lanes(b) (bit i: lane i == b's lane i).
// Lanes::f64 is loaded from every float dtype (f64 accumulation) but stores only f64.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/common/blas1_chunked.hpp"
#include "kernels/common/simd_accumulators.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

template <class Lanes>
struct blas1_vector {
  using exec_args = detail::exec_args;

  /// Which vector type computes T in its own precision.
  template <class T>
  using compute_vec = std::conditional_t<std::is_same_v<T, double>, typename Lanes::f64, typename Lanes::f32>;

  /// Runs step(acc, i, k) over [0, n) in blocks of V::width (k < width only for the last
  /// block), with four accumulators per chunk, chunks in parallel, partials merged in order.
  template <class V, class VAcc, class SAcc, class Step>
  static void vreduce(const exec_args& ex, idx n, SAcc& total, Step step) {
    const int chunks = chunks_for<true>(ex, n);
    if (chunks == 1) {  // short vectors: no table of partials to clear (2-4 KiB per call)
      SAcc s;
      detail::parallel_chunks(1, [&](int) { s = vreduce_range<V, VAcc, SAcc>(0, n, step); });
      total.merge(s);
      return;
    }
    SAcc partial[detail::max_chunks];
    detail::parallel_chunks(chunks, [&](int c) {
      idx b, e;
      detail::chunk_range(n, chunks, c, 64, &b, &e);
      partial[c] = vreduce_range<V, VAcc, SAcc>(b, e, step);
    });
    for (int c = 0; c < chunks; ++c) total.merge(partial[c]);
  }

  /// One chunk of vreduce: [b, e) with four accumulators, drained into a scalar one.
  template <class V, class VAcc, class SAcc, class Step>
  static SAcc vreduce_range(idx b, idx e, Step& step) {
    constexpr idx w = V::width;
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
    return s;
  }

  /// Full blocks load through load_halves: a 64-byte load that spans two cache lines made
  /// AVX-512 f64 dot 1.4-1.7x slower on data 8-32 bytes off a line (what malloc gives), and
  /// two 32-byte loads do not suffer from it. Aligning the loads instead would make the
  /// lanes, and so the rounding of a reduction, depend on the data's address.
  template <class V, class T>
  static V load_block(const T* p, idx k) {
    return k == V::width ? V::template load_halves<T>(p) : V::template load_tail<T>(p, k);
  }
  template <class V, class T>
  static void store_block(V v, T* p, idx k) {
    if (k == V::width)
      v.store(p);
    else
      v.store_tail(p, k);
  }

  /// Calls body(i, k) over [b, e) in blocks of V::width elements (k < width only at the
  /// ends), the full blocks starting where `dst + i` is aligned to a whole vector. A store
  /// that spans two cache lines made memory-bound loops ~25 % slower here: AVX-512 f64
  /// axpby on 16-byte aligned data (what malloc and std::vector give) 4.5-4.8 ms against
  /// 3.6-3.9 ms on 64-byte aligned data, 2^24 elements.
  template <class V, class T, class Body>
  static void store_aligned_blocks(const T* dst, idx b, idx e, Body&& body) {
    constexpr idx w = V::width;
    constexpr std::uintptr_t bytes = std::uintptr_t(w) * sizeof(T);
    idx i = b;
    const std::uintptr_t addr = reinterpret_cast<std::uintptr_t>(dst + b);
    if (addr % sizeof(T) == 0) {  // else no element starts on a vector boundary
      const idx head = std::min<idx>(e - b, idx((bytes - addr % bytes) % bytes / sizeof(T)));
      if (head > 0) body(i, head);
      i += head;
    }
    for (; i + w <= e; i += w) body(i, w);
    if (i < e) body(i, e - i);
  }

  /// Calls f(V{}, VAcc{}, SAcc&) with the vector and accumulator types that the contract
  /// prescribes for T and `mode`, then writes the value of the scalar accumulator.
  template <class T, class F>
  static void with_vector_accumulator(accumulation mode, double* result, F&& f) {
    using C = compute_t<T>;
    using VC = compute_vec<T>;
    using VD = typename Lanes::f64;
    if (mode == accumulation::compensated) {
      compensated_sum<C> s;
      f(VC{}, vcompensated<VC>{}, s);
      *result = s.value();
    } else if (mode == accumulation::f64) {
      plain_sum<double> s;
      f(VD{}, vplain<VD>{}, s);
      *result = s.value();
    } else {
      plain_sum<C> s;
      f(VC{}, vplain<VC>{}, s);
      *result = s.value();
    }
  }

  /// An elementwise update with f64 sums of what it stored, in one pass: step(i, k) updates
  /// elements [i, i + k) of a block of V (k < V::width only at the end), then fold(acc, j, m)
  /// adds elements [j, j + m) to the K f64-lane accumulators acc[0..K), reading back in f64
  /// lanes what step has just stored (from L1). Blocks start at each chunk's first element,
  /// not at an aligned address, so the sums do not depend on where the vectors lie. Two sets
  /// of accumulators alternate to halve the chain of dependent adds; both sets and the
  /// lambdas are copied into the chunk's body, as the intrinsics' stores may alias anything
  /// reached through a pointer (accumulators and pointers reloaded every block ran this
  /// loop at half the speed of dot).
  template <class V, int K, class Step, class Fold>
  static void update_and_reduce(const exec_args& ex, idx n, double* result, const Step& step, const Fold& fold) {
    using W = typename Lanes::f64;
    struct sums {
      plain_sum<double> s[K];
    };
    const int chunks = chunks_for<true>(ex, n);
    sums one;
    sums* partial = &one;
    local_vector<sums> table;
    if (chunks > 1) {
      table.resize(std::size_t(chunks));
      partial = table.data();
    }
    detail::parallel_chunks(chunks, [&](int c) {
      idx b, e;
      detail::chunk_range(n, chunks, c, 64, &b, &e);
      const Step st = step;
      const Fold fo = fold;
      vplain<W> a0[K], a1[K];
      // A block of V is one block of W (f64) or two (f32): the second goes to `second`.
      const auto fold_block = [&](idx i, idx k, vplain<W>* first, vplain<W>* second) {
        fo(first, i, std::min<idx>(W::width, k));
        if constexpr (V::width > W::width)
          if (k > W::width) fo(second, i + W::width, k - W::width);
      };
      idx i = b;
      for (; i + 2 * V::width <= e; i += 2 * V::width) {
        st(i, V::width);
        fold_block(i, V::width, a0, a1);
        st(i + V::width, V::width);
        fold_block(i + V::width, V::width, a1, a0);
      }
      for (; i < e; i += V::width) {
        const idx k = std::min<idx>(V::width, e - i);
        st(i, k);
        fold_block(i, k, a0, a1);
      }
      for (int q = 0; q < K; ++q) {
        a0[q].merge(a1[q]);
        a0[q].drain(partial[c].s[q]);
      }
    });
    for (int q = 0; q < K; ++q) {
      plain_sum<double> total;
      for (int c = 0; c < chunks; ++c) total.merge(partial[c].s[q]);
      result[q] = total.value();
    }
  }

  template <class T>
  struct ops {
    using C = compute_t<T>;
    using V = compute_vec<T>;

    static void fill(const exec_args& ex, idx n, double value, void* xv, idx) {
      T* x = static_cast<T*>(xv);
      // Round once to T, then widen exactly: the stores reproduce that rounding exactly.
      const V v = V::broadcast(C(widen(from_f64<T>(value))));
      for_chunks<true>(ex, n, [&](idx b, idx e) {
        store_aligned_blocks<V>(x, b, e, [&](idx i, idx k) { store_block(v, x + i, k); });
      });
    }

    static void axpy(const exec_args& ex, idx n, double alpha, const void* xv, idx, void* yv, idx) {
      const T* x = static_cast<const T*>(xv);
      T* y = static_cast<T*>(yv);
      const V a = V::broadcast(C(alpha));
      for_chunks<true>(ex, n, [&](idx b, idx e) {
        store_aligned_blocks<V>(y, b, e, [&](idx i, idx k) {
          store_block(V::fma(a, load_block<V>(x + i, k), load_block<V>(y + i, k)), y + i, k);
        });
      });
    }

    /// y = alpha*x + beta*y; beta == 0 does not read y.
    static void axpby(const exec_args& ex, idx n, double alpha, const void* xv, idx, double beta, void* yv, idx) {
      const T* x = static_cast<const T*>(xv);
      T* y = static_cast<T*>(yv);
      const V a = V::broadcast(C(alpha)), bt = V::broadcast(C(beta));
      const bool read_y = C(beta) != C(0);
      for_chunks<true>(ex, n, [&](idx b, idx e) {
        if (read_y)
          store_aligned_blocks<V>(y, b, e, [&](idx i, idx k) {
            store_block(V::fma(a, load_block<V>(x + i, k), bt * load_block<V>(y + i, k)), y + i, k);
          });
        else
          store_aligned_blocks<V>(y, b, e, [&](idx i, idx k) { store_block(a * load_block<V>(x + i, k), y + i, k); });
      });
    }

    static void scal(const exec_args& ex, idx n, double alpha, void* xv, idx) {
      T* x = static_cast<T*>(xv);
      const V a = V::broadcast(C(alpha));
      for_chunks<true>(ex, n, [&](idx b, idx e) {
        store_aligned_blocks<V>(x, b, e, [&](idx i, idx k) { store_block(a * load_block<V>(x + i, k), x + i, k); });
      });
    }

    static void dot(const exec_args& ex, idx n, const void* xv, idx, const void* yv, idx, accumulation mode,
                    double* result) {
      const T* x = static_cast<const T*>(xv);
      const T* y = static_cast<const T*>(yv);
      with_vector_accumulator<T>(mode, result, [&](auto vt, auto acc_t, auto& total) {
        using W = decltype(vt);
        vreduce<W, decltype(acc_t)>(ex, n, total, [&](auto& acc, idx i, idx k) {
          acc.add_product(load_block<W>(x + i, k), load_block<W>(y + i, k));
        });
      });
    }

    static void sumsq(const exec_args& ex, idx n, const void* xv, idx incx, double scale, accumulation mode,
                      double* result) {
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

    static void asum(const exec_args& ex, idx n, const void* xv, idx, accumulation mode, double* result) {
      const T* x = static_cast<const T*>(xv);
      with_vector_accumulator<T>(mode, result, [&](auto vt, auto acc_t, auto& total) {
        using W = decltype(vt);
        vreduce<W, decltype(acc_t)>(ex, n, total,
                                    [&](auto& acc, idx i, idx k) { acc.add(load_block<W>(x + i, k).abs()); });
      });
    }

    /// z = alpha*(d .* r) + beta*z; beta == 0 does not read z.
    static void diag_scale(const exec_args& ex, idx n, double alpha, const void* dv, const void* rv, double beta,
                           void* zv) {
      const T* d = static_cast<const T*>(dv);
      const T* r = static_cast<const T*>(rv);
      T* z = static_cast<T*>(zv);
      const V a = V::broadcast(C(alpha)), bt = V::broadcast(C(beta));
      const bool read_z = C(beta) != C(0);
      for_chunks<true>(ex, n, [&](idx b, idx e) {
        store_aligned_blocks<V>(z, b, e, [&](idx i, idx k) {
          const V dr = load_block<V>(d + i, k) * load_block<V>(r + i, k);
          store_block(read_z ? V::fma(a, dr, bt * load_block<V>(z + i, k)) : a * dr, z + i, k);
        });
      });
    }

    /// x += alpha*p, r -= alpha*q, rr[0] = r'r of the new r (f64 lanes).
    static void cg_update(const exec_args& ex, idx n, double alpha, const void* p, const void* q, void* x, void* r,
                          double* rr) {
      using W = typename Lanes::f64;
      const T* rt = static_cast<const T*>(r);
      update_and_reduce<V, 1>(ex, n, rr, update_x_and_r(alpha, p, q, x, r), [=](auto* acc, idx j, idx m) {
        const W rj = load_block<W>(rt + j, m);
        acc[0].add_product(rj, rj);
      });
    }

    /// cg_update, and rr[1] = r'Dr of the new r for D = diag(d).
    static void pcg_jacobi_update(const exec_args& ex, idx n, double alpha, const void* p, const void* q,
                                  const void* dv, void* x, void* r, double* rr) {
      using W = typename Lanes::f64;
      const T* rt = static_cast<const T*>(r);
      const T* d = static_cast<const T*>(dv);
      update_and_reduce<V, 2>(ex, n, rr, update_x_and_r(alpha, p, q, x, r), [=](auto* acc, idx j, idx m) {
        const W rj = load_block<W>(rt + j, m);
        acc[0].add_product(rj, rj);
        acc[1].add_product(rj * load_block<W>(d + j, m), rj);
      });
    }

    /// h[j] = v_j' w in f64 lanes for k vectors: each block of w is loaded once for all of
    /// them, one accumulator per vector (K a constant, so they stay in registers).
    static void mdot(const exec_args& ex, idx n, int k, const void* vv, idx ldv, const void* wv, double* h) {
      with_count(k, [&](auto count) { mdot_k<decltype(count)::value>(ex, n, vv, ldv, wv, h); });
    }

    /// out[i] += alpha * row_i' y (rows of T widened to f64, f64 y), four f64-lane
    /// accumulators per row, rows over the threads.
    static void row_dots(const exec_args& ex, idx rows, idx len, const void* av, idx lda, const double* y, double alpha,
                         double* out) {
      using W = typename Lanes::f64;
      constexpr idx lanes = W::width;
      const T* a = static_cast<const T*>(av);
      const int chunks = row_dot_chunks(ex, rows, len);
      detail::parallel_chunks(chunks, [&](int c) {
        idx b, e;
        detail::chunk_range(rows, chunks, c, 1, &b, &e);
        for (idx i = b; i < e; ++i) {
          const T* r = a + i * lda;
          vplain<W> acc[4];
          idx j = 0;
          for (; j + 4 * lanes <= len; j += 4 * lanes)
            for (int q = 0; q < 4; ++q)
              acc[q].add_product(W::template load<T>(r + j + q * lanes), W::template load<double>(y + j + q * lanes));
          for (; j < len; j += lanes) {
            const idx m = std::min(lanes, len - j);
            acc[0].add_product(load_block<W>(r + j, m), load_block<W>(y + j, m));
          }
          plain_sum<double> s;
          for (const auto& q : acc) q.drain(s);
          out[i] += alpha * s.value();
        }
      });
    }

    /// w += sum_j a[j] v_j: each block of w loaded and stored once, the k steps in between
    /// rounded to T's compute precision one by one, as k calls of axpy would.
    static void maxpy(const exec_args& ex, idx n, int k, const double* a, const void* vv, idx ldv, void* wv) {
      with_count(k, [&](auto count) { maxpy_k<decltype(count)::value>(ex, n, a, vv, ldv, wv); });
    }

    /// hx[j] = v_j' x and hy[j] = v_j' y in f64 lanes for any k. Each chunk goes by in tiles
    /// of mdot2_tile elements; within a tile, groups of up to 8 vectors share each load of x
    /// and y (from L1 after the first group) with 16 accumulators in registers, so every v_j
    /// is read once where two mdot calls would read it twice.
    static void mdot2(const exec_args& ex, idx n, int k, const void* vv, idx ldv, const void* xv, const void* yv,
                      double* hx, double* hy) {
      using W = typename Lanes::f64;
      const T* v = static_cast<const T*>(vv);
      const T* x = static_cast<const T*>(xv);
      const T* y = static_cast<const T*>(yv);
      const int chunks = chunks_for<true>(ex, n);
      const std::size_t per_chunk = 2 * std::size_t(k);
      local_vector<vplain<W>> table(std::size_t(chunks) * per_chunk);  // chunk c's x sums, then its y sums
      detail::parallel_chunks(chunks, [&](int c) {
        idx b, e;
        detail::chunk_range(n, chunks, c, 64, &b, &e);
        vplain<W>* ax = table.data() + std::size_t(c) * per_chunk;  // (k = 0: an empty table)
        vplain<W>* ay = ax + k;
        for (idx t0 = b; t0 < e; t0 += mdot2_tile) {
          const idx t1 = std::min(e, t0 + mdot2_tile);
          // Groups of 8 vectors, the rest by 4, 2 and 1: four bodies to compile, not eight.
          int g = 0;
          for (; g + 8 <= k; g += 8) mdot2_group<8>(t0, t1, v + g * ldv, ldv, x, y, ax + g, ay + g);
          if (g + 4 <= k) {
            mdot2_group<4>(t0, t1, v + g * ldv, ldv, x, y, ax + g, ay + g);
            g += 4;
          }
          if (g + 2 <= k) {
            mdot2_group<2>(t0, t1, v + g * ldv, ldv, x, y, ax + g, ay + g);
            g += 2;
          }
          if (g < k) mdot2_group<1>(t0, t1, v + g * ldv, ldv, x, y, ax + g, ay + g);
        }
      });
      for (int j = 0; j < k; ++j) {
        plain_sum<double> tx, ty;
        for (int c = 0; c < chunks; ++c) {
          table[std::size_t(c) * per_chunk + std::size_t(j)].drain(tx);
          table[std::size_t(c) * per_chunk + std::size_t(k + j)].drain(ty);
        }
        hx[j] = tx.value();
        hy[j] = ty.value();
      }
    }

    /// DCGS2's update: x = inv_rho*(x - V s), y = scale*(y - V t - gamma*x) with the new x,
    /// and y'y in f64 lanes, in one pass. Each block of four vectors of x and y walks all k
    /// vectors v_j at once (eight independent FMA chains), so V is read once, x and y are
    /// read and written once.
    static void dcgs2_update(const exec_args& ex, idx n, int k, const void* vv, idx ldv, const double* s,
                             const double* t, double inv_rho, double gamma, double scale, void* xv, void* yv,
                             double* yy) {
      const T* v = static_cast<const T*>(vv);
      T* x = static_cast<T*>(xv);
      T* y = static_cast<T*>(yv);
      local_vector<C> coefficients(2 * std::size_t(k));  // s, then t, in T's compute precision
      for (int j = 0; j < k; ++j) {
        coefficients[std::size_t(j)] = C(s[j]);
        coefficients[std::size_t(k + j)] = C(t[j]);
      }
      const dcgs2_step step{coefficients.data(),    v, ldv, k, V::broadcast(C(inv_rho)), V::broadcast(C(-gamma)),
                            V::broadcast(C(scale)), x, y};
      const int chunks = chunks_for<true>(ex, n);
      plain_sum<double> partial[detail::max_chunks];
      detail::parallel_chunks(chunks, [&](int c) {
        idx b, e;
        detail::chunk_range(n, chunks, c, 64, &b, &e);
        const dcgs2_step st = step;
        vplain<typename Lanes::f64> acc[4];
        idx i = b;
        for (; i + 4 * V::width <= e; i += 4 * V::width) st.template run<4>(i, V::width, acc);
        for (; i < e; i += V::width) st.template run<1>(i, std::min<idx>(V::width, e - i), acc);
        acc[0].merge(acc[1]);
        acc[2].merge(acc[3]);
        acc[0].merge(acc[2]);
        acc[0].drain(partial[c]);
      });
      plain_sum<double> total;
      for (int c = 0; c < chunks; ++c) total.merge(partial[c]);
      yy[0] = total.value();
    }

    /// Two passes per chunk: the largest |x| (and whether a NaN is present), then the first
    /// index holding it. Each chunk reads its part twice, from cache for chunks that fit.
    static void amax(const exec_args& ex, idx n, const void* xv, idx, idx* result) {
      const T* x = static_cast<const T*>(xv);
      *result = amax_chunks<true>(ex, n, [&](idx b, idx e, double* best) { return chunk_amax(x, b, e, best); });
    }

   private:
    /// The step of CG's update: x += alpha*p, r -= alpha*q over a block, rounded in T's
    /// compute precision as axpy rounds. A functor forced inline: as a lambda GCC called it
    /// once per block.
    struct update_x_and_r {
      V a, minus_a;
      const T* p;
      const T* q;
      T* x;
      T* r;
      update_x_and_r(double alpha, const void* pv, const void* qv, void* xv, void* rv)
          : a(V::broadcast(C(alpha))),
            minus_a(V::broadcast(C(-alpha))),
            p(static_cast<const T*>(pv)),
            q(static_cast<const T*>(qv)),
            x(static_cast<T*>(xv)),
            r(static_cast<T*>(rv)) {}
      MIXPREC_ALWAYS_INLINE void operator()(idx i, idx k) const {
        store_block(V::fma(a, load_block<V>(p + i, k), load_block<V>(x + i, k)), x + i, k);
        store_block(V::fma(minus_a, load_block<V>(q + i, k), load_block<V>(r + i, k)), r + i, k);
      }
    };

    /// Elements per tile of mdot2: the tile of x and y (16 KiB in f64) stays in L1 while the
    /// groups of vectors go by.
    static constexpr idx mdot2_tile = 1024;

    /// mdot2 over [b, e) for K vectors at v: the sums continue from ax[0..K), ay[0..K).
    template <int K>
    static void mdot2_group(idx b, idx e, const T* v, idx ldv, const T* x, const T* y, vplain<typename Lanes::f64>* ax,
                            vplain<typename Lanes::f64>* ay) {
      using W = typename Lanes::f64;
      constexpr idx lanes = W::width;
      vplain<W> a[K], c[K];
      for (int j = 0; j < K; ++j) {
        a[j] = ax[j];
        c[j] = ay[j];
      }
      for (idx i = b; i < e; i += lanes) {
        const idx m = std::min(lanes, e - i);
        const W xi = load_block<W>(x + i, m), yi = load_block<W>(y + i, m);
        for (int j = 0; j < K; ++j) {
          const W vj = load_block<W>(v + j * ldv + i, m);
          a[j].add_product(vj, xi);
          c[j].add_product(vj, yi);
        }
      }
      for (int j = 0; j < K; ++j) {
        ax[j] = a[j];
        ay[j] = c[j];
      }
    }

    /// One block of dcgs2_update: NB vectors of V::width elements (m < width only when NB is
    /// 1, at the end). Held by value in the chunk's body, so that the stores to x and y do
    /// not make the compiler reload its members.
    struct dcgs2_step {
      const C* coefficients;  // s[0..k), then t[0..k)
      const T* v;
      idx ldv;
      int k;
      V inv_rho, minus_gamma, scale;
      T* x;
      T* y;

      template <int NB>
      MIXPREC_ALWAYS_INLINE void run(idx i, idx m, vplain<typename Lanes::f64>* acc) const {
        using W = typename Lanes::f64;
        V sv[NB], tv[NB];
        for (int q = 0; q < NB; ++q) sv[q] = tv[q] = V::zero();
        for (int j = 0; j < k; ++j) {
          const T* row = v + j * ldv + i;
          const V sj = V::broadcast(coefficients[j]), tj = V::broadcast(coefficients[k + j]);
          for (int q = 0; q < NB; ++q) {
            const V a = load_block<V>(row + q * V::width, m);
            sv[q] = V::fma(sj, a, sv[q]);
            tv[q] = V::fma(tj, a, tv[q]);
          }
        }
        for (int q = 0; q < NB; ++q) {
          const idx at = i + q * V::width;
          const V xn = inv_rho * (load_block<V>(x + at, m) - sv[q]);
          store_block(xn, x + at, m);
          store_block(scale * V::fma(minus_gamma, xn, load_block<V>(y + at, m) - tv[q]), y + at, m);
          // y'y in f64 lanes from what was just stored (L1): one block of W, or two for f32.
          for (idx h = 0; h < m; h += W::width) {
            const W yn = load_block<W>(y + at + h, std::min<idx>(W::width, m - h));
            acc[(q + h / W::width) % 4].add_product(yn, yn);
          }
        }
      }
    };

    /// Calls f(std::integral_constant<int, k>) for k = 1 .. multi_vector_max.
    template <class F>
    static void with_count(int k, F&& f) {
      switch (k) {
        case 1:
          return f(std::integral_constant<int, 1>{});
        case 2:
          return f(std::integral_constant<int, 2>{});
        case 3:
          return f(std::integral_constant<int, 3>{});
        case 4:
          return f(std::integral_constant<int, 4>{});
        case 5:
          return f(std::integral_constant<int, 5>{});
        case 6:
          return f(std::integral_constant<int, 6>{});
        case 7:
          return f(std::integral_constant<int, 7>{});
        default:
          return f(std::integral_constant<int, detail::multi_vector_max>{});
      }
    }

    template <int K>
    static void mdot_k(const exec_args& ex, idx n, const void* vv, idx ldv, const void* wv, double* h) {
      using W = typename Lanes::f64;
      constexpr idx lanes = W::width;
      const T* v = static_cast<const T*>(vv);
      const T* w = static_cast<const T*>(wv);
      const int chunks = chunks_for<true>(ex, n);
      local_vector<plain_sum<double>> table(std::size_t(chunks) * K);  // chunk c's sums at c*K
      plain_sum<double>* partial = table.data();
      detail::parallel_chunks(chunks, [&](int c) {
        idx b, e;
        detail::chunk_range(n, chunks, c, 64, &b, &e);
        vplain<W> acc[K];
        for (idx i = b; i < e; i += lanes) {
          const idx m = std::min(lanes, e - i);
          const W wi = load_block<W>(w + i, m);
          for (int j = 0; j < K; ++j) acc[j].add_product(load_block<W>(v + j * ldv + i, m), wi);
        }
        for (int j = 0; j < K; ++j) acc[j].drain(partial[c * K + j]);
      });
      for (int j = 0; j < K; ++j) {
        plain_sum<double> total;
        for (int c = 0; c < chunks; ++c) total.merge(partial[c * K + j]);
        h[j] = total.value();
      }
    }

    template <int K>
    static void maxpy_k(const exec_args& ex, idx n, const double* a, const void* vv, idx ldv, void* wv) {
      const T* v = static_cast<const T*>(vv);
      T* w = static_cast<T*>(wv);
      V coefficient[K];
      for (int j = 0; j < K; ++j) coefficient[j] = V::broadcast(C(a[j]));
      for_chunks<true>(ex, n, [&](idx b, idx e) {
        store_aligned_blocks<V>(w, b, e, [&](idx i, idx m) {
          V s = load_block<V>(w + i, m);
          for (int j = 0; j < K; ++j) s = V::fma(coefficient[j], load_block<V>(v + j * ldv + i, m), s);
          store_block(s, w + i, m);
        });
      });
    }

    static idx chunk_amax(const T* x, idx b, idx e, double* best) {
      constexpr idx w = V::width;
      V m = V::zero();
      bool nan = false;
      for (idx i = b; i < e; i += w) {
        const V a = load_block<V>(x + i, std::min(w, e - i)).abs();
        nan |= a.has_nan();
        m = V::max(m, a);
      }
      if (nan) return amax_range(b, e, x, 1, best);  // the first NaN, found by the scalar scan
      const C top = m.reduce_max();
      *best = double(top);
      const V t = V::broadcast(top);
      for (idx i = b; i < e; i += w) {
        const idx k = std::min(w, e - i);
        unsigned hits = load_block<V>(x + i, k).abs().equal_lanes(t);
        hits &= (k == w) ? ~0u : ((1u << k) - 1u);
        if (hits) return i + __builtin_ctz(hits);
      }
      return b;  // not reached: the maximum is one of the elements
    }
  };
};

/// The kernels of blas1_vector<Lanes> as a registry table (f64, f32, f16, bf16).
template <class Lanes>
constexpr detail::blas1_kernel_table blas1_vector_table() {
  using B = blas1_vector<Lanes>;
  using D = typename B::template ops<double>;
  using F = typename B::template ops<float>;
  using H = typename B::template ops<half>;
  using BF = typename B::template ops<bfloat16>;
  return {{&D::fill, &F::fill, &H::fill, &BF::fill},
          {&D::axpy, &F::axpy, &H::axpy, &BF::axpy},
          {&D::axpby, &F::axpby, &H::axpby, &BF::axpby},
          {&D::scal, &F::scal, &H::scal, &BF::scal},
          {&D::dot, &F::dot, &H::dot, &BF::dot},
          {&D::sumsq, &F::sumsq, &H::sumsq, &BF::sumsq},
          {&D::asum, &F::asum, &H::asum, &BF::asum},
          {&D::amax, &F::amax, &H::amax, &BF::amax},
          {&D::mdot, &F::mdot},
          {&D::maxpy, &F::maxpy},
          {&D::mdot2, &F::mdot2},
          {&D::dcgs2_update, &F::dcgs2_update},
          {&D::cg_update, &F::cg_update},
          {&D::diag_scale, &F::diag_scale},
          {&D::pcg_jacobi_update, &F::pcg_jacobi_update},
          {&D::row_dots, &F::row_dots}};
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
