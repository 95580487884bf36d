// libFuzzer harness: GGUF Q8_0 / Q4_0 blocks from the input (shape and format declared by
// the input, whatever bytes follow) -> block_matrix::from_bytes -> dequantize, the block
// matmul and the embedding lookup with ids taken from the input. Arbitrary bytes are valid
// blocks (an f16 scale may be NaN or infinite, and then so is the result); the sizes and ids
// must be refused by name when they do not fit.
#include <vector>

#include "fuzz_input.hpp"
#include "mixprec/block_quant.hpp"
#include "mixprec/error.hpp"
#include "mixprec/view.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mixprec;
  fuzz::input in(data, size);
  const block_format f = in.take<std::uint8_t>() % 2 ? block_format::q4_0 : block_format::q8_0;
  // Any 64-bit shape: products that overflow must be refused, not wrapped.
  const std::int64_t rows = in.take<std::int64_t>(), cols = in.take<std::int64_t>();
  const std::int64_t m = 1 + in.below(3);
  std::vector<std::int32_t> ids(std::size_t(1 + in.below(4)));
  for (auto& id : ids) id = in.take<std::int8_t>();
  const std::vector<std::uint8_t> blocks = in.rest();
  try {
    const block_matrix w = block_matrix::from_bytes(blocks.data(), blocks.size(), rows, cols, f);
    // A matrix of 0 columns and 2^60 rows (or the other way round) is consistent with no
    // bytes, and the library must handle it without a loop over what is not there; the
    // harness's own buffers (x, y, out) are the caller's memory to size, so it stops there.
    if (w.rows() > (1 << 16) || w.cols() > (1 << 16)) {
      if (w.rows() == 0 || w.cols() == 0)
        w.dequantize(view(static_cast<float*>(nullptr), dtype::f32, {w.rows(), w.cols()}, {}, context::cpu()));
      return 0;
    }
    std::vector<float> dense(std::size_t(w.rows() * w.cols()));
    w.dequantize(make_view(dense.data(), {w.rows(), w.cols()}));
    std::vector<float> x(std::size_t(m * w.cols()), 0.5f), y(std::size_t(m * w.rows()));
    matmul(make_view(x.data(), {m, w.cols()}), w, make_view(y.data(), {m, w.rows()}));
    std::vector<float> out(ids.size() * std::size_t(w.cols()));
    embedding(w, make_view(ids.data(), std::int64_t(ids.size())),
              make_view(out.data(), {std::int64_t(ids.size()), w.cols()}));
  } catch (const error&) {
    // A named rejection.
  }
  return 0;
}
