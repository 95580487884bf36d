// This machine's limits, measured by the running program (not taken from a datasheet): the
// STREAM triad bandwidth, and the peak rate of each compute unit from register-resident loops
// of independent multiply-adds on every thread. mixprec_bench and mixprec-compare report
// their rates as fractions of these, measured the same way.
#pragma once

namespace mixprec::limits {

enum class compute_unit { fma_f64, fma_f32, dot_bf16, dot_int8 };

/// FLOP/s (OP/s for int8) of `unit` on the CPU context's threads; 0 when the CPU lacks it.
/// Measured once per process, on first use (about 0.2 s per unit).
double measured_peak(compute_unit unit);
const char* name_of(compute_unit unit);

/// STREAM triad a = b + s*c over 2^25 doubles (768 MiB, beyond any cache) in bytes/s (24 B
/// per element, write-allocate not counted); arrays first-touched by the threads that use
/// them, best of 10 timed runs as STREAM reports. Measured once per process, on first use.
double triad_bytes_per_second();

}  // namespace mixprec::limits
