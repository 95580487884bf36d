// The compute peaks of this machine's units, measured by this run (not taken from a
// datasheet): register-resident loops of independent multiply-adds on every thread. GEMM
// benchmarks report their rate as a fraction of the peak of the unit they run on.
#pragma once

#include <string>

namespace mixprec::bench {

enum class compute_unit { fma_f64, fma_f32, dot_bf16, dot_int8 };

/// FLOP/s (OP/s for int8) of `unit` on the context's threads; 0 when the CPU lacks it.
/// Measured once per process, on first use.
double measured_peak(compute_unit unit);
const char* name_of(compute_unit unit);

}  // namespace mixprec::bench
