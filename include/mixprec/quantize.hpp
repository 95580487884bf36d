// mixprec/quantize.hpp — f32/bf16/f16 <-> s8/u8 quantization: per tensor, per channel and
// group-wise, symmetric or asymmetric, with scales chosen from the data (dynamic) or given.
//
//   // weights k x n, one scale per output channel (column), symmetric s8
//   mixprec::quant_scheme s{mixprec::dtype::i8, true, mixprec::quant_granularity::per_channel, 1};
//   mixprec::quant_params p = mixprec::choose_quant_params(w, s);
//   mixprec::quantize(w, p, w_s8);                 // w_s8[i][j] = sat(rne(w[i][j] / scale[j]))
//   mixprec::dequantize(w_s8, p, w_back);          // (q - zero_point) * scale
//
// Numerics contract
// - q = saturate(round_half_even(x / scale) + zero_point): the division is one IEEE f32
//   division, rounding is to nearest with ties to even, saturation clamps to the target's
//   range ([-128, 127] for s8, [0, 255] for u8). NaN becomes the zero point (the quantized 0);
//   +-Inf saturate.
// - Dequantization: x = (q - zero_point) * scale in f32 (exact product, one rounding).
// - choose_quant_params (dynamic): symmetric (s8 only): scale = max|x| / 127, zero point 0;
//   asymmetric: the range [min(x, 0), max(x, 0)] (0 is always exactly representable) maps
//   onto [qmin, qmax]: scale = (max - min) / (qmax - qmin), zero_point = qmin - round(min /
//   scale), clamped. A group of zeros gets scale 1. NaN in the data is ignored for the range.
//   So |dequantize(quantize(x)) - x| <= scale / 2 for every x inside the range.
// - Granularity for a rank-2 x (rows x cols): per_tensor (one scale); per_channel (one per
//   index along `axis`: axis 1 = one per column, as per-output-channel weights k x n);
//   per_group (blocks of group_size consecutive elements along `axis`, one scale each:
//   axis 0 for weights k x n, blocks of k; axis 1 for activations m x k). Parameters are
//   stored row-major over the (row group, column group) grid.
#pragma once

#include <cstdint>
#include <vector>

#include "mixprec/dtype.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

enum class quant_granularity : std::uint8_t { per_tensor, per_channel, per_group };

struct quant_scheme {
  dtype target = dtype::i8;  // i8 or u8
  bool symmetric = true;     // zero point 0 (s8 only)
  quant_granularity granularity = quant_granularity::per_tensor;
  int axis = 1;        // per_channel: the channel axis; per_group: the blocked axis
  int group_size = 0;  // per_group: 32, 64, 128, ... (> 0)
};

/// Scales and zero points for a rows x cols tensor under a scheme.
struct quant_params {
  quant_scheme scheme;
  std::int64_t rows = 0, cols = 0;
  std::int64_t grid_rows = 1, grid_cols = 1;  // parameters: grid_rows x grid_cols, row-major
  std::vector<float> scale;
  std::vector<std::int32_t> zero_point;

  /// Index into scale / zero_point of element (i, j).
  std::int64_t index(std::int64_t i, std::int64_t j) const;
};

/// The parameter grid for x's shape under `s`, with scales 1 and zero points 0: fill in
/// given scales and zero points (static quantization).
quant_params make_quant_params(std::int64_t rows, std::int64_t cols, const quant_scheme& s);

/// Parameters from the data (dynamic quantization); x is rank 1 (one row) or 2, CPU memory,
/// f32, bf16 or f16.
quant_params choose_quant_params(const_view x, const quant_scheme& s);

/// q = quantize(x) under p; x f32/bf16/f16, q i8/u8 of p's target, both rank 1 or 2 of p's shape.
void quantize(const_view x, const quant_params& p, view q);

/// x = dequantize(q) under p; x f32 or bf16 (then rounded once, to nearest even).
void dequantize(const_view q, const quant_params& p, view x);

}  // namespace mixprec

MIXPREC_PUBLIC_END
