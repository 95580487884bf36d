// The C API's plumbing: what each opaque handle holds, the guard that turns every C++
// exception into a status and a per-thread message, and the checked conversions from C
// arguments (handles, enums, options structs) to the C++ API's types.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>

#include "internal/error_macros.hpp"
#include "mixprec/attention.hpp"
#include "mixprec/block_quant.hpp"
#include "mixprec/context.hpp"
#include "mixprec/dense.hpp"
#include "mixprec/error.hpp"
#include "mixprec/grid.hpp"
#include "mixprec/linear_operator.hpp"
#include "mixprec/mixprec.h"
#include "mixprec/quantize.hpp"
#include "mixprec/solver.hpp"
#include "mixprec/sparse.hpp"
#include "mixprec/train.hpp"
#include "mixprec/view.hpp"

namespace mixprec::capi {

// Each handle starts with a tag naming its kind, cleared when it is destroyed, so that a
// handle of the wrong kind (or one already destroyed, while its memory is not reused) is
// refused with a message instead of being read as something else.
template <std::uint32_t Tag>
struct tagged {
  static constexpr std::uint32_t tag_value = Tag;
  std::uint32_t tag = Tag;
  tagged() = default;
  tagged(const tagged&) = delete;
  tagged& operator=(const tagged&) = delete;
  ~tagged() { tag = 0; }
};

}  // namespace mixprec::capi

struct mixprec_context_s : mixprec::capi::tagged<0x4d504301> {
  static constexpr const char* kind = "mixprec_context";
  mixprec::context ctx;
};

struct mixprec_array_s : mixprec::capi::tagged<0x4d504302> {
  static constexpr const char* kind = "mixprec_array";
  mixprec::view view;          // writable only when !read_only
  bool read_only = false;      // wrapped with mixprec_array_wrap_const
  mixprec::buffer owned;       // mixprec_array_create's memory; empty for wrapped arrays
  std::shared_ptr<void> keep;  // an imported DLPack tensor, released with the handle
};

struct mixprec_csr_s : mixprec::capi::tagged<0x4d504303> {
  static constexpr const char* kind = "mixprec_csr";
  std::shared_ptr<const mixprec::csr_matrix> owned;  // null for wrapped caller arrays
  mixprec::csr_ref ref;                              // what SpMV reads, owned or wrapped
};

struct mixprec_dia_s : mixprec::capi::tagged<0x4d504304> {
  static constexpr const char* kind = "mixprec_dia";
  std::shared_ptr<const mixprec::dia_matrix> matrix;
};

struct mixprec_grid_s : mixprec::capi::tagged<0x4d504305> {
  static constexpr const char* kind = "mixprec_grid";
  mixprec::grid g;
};

struct mixprec_operator_s : mixprec::capi::tagged<0x4d504306> {
  static constexpr const char* kind = "mixprec_operator";
  std::shared_ptr<const void> keep;              // the matrix the operator refers to
  std::unique_ptr<mixprec::linear_operator> op;  // (declared after: destroyed first)
};

struct mixprec_preconditioner_s : mixprec::capi::tagged<0x4d504307> {
  static constexpr const char* kind = "mixprec_preconditioner";
  std::unique_ptr<mixprec::linear_operator> op;
};

struct mixprec_report_s : mixprec::capi::tagged<0x4d504308> {
  static constexpr const char* kind = "mixprec_report";
  mixprec::solve_report report;
  double backward_error = -1;  // dense solves only
  std::string path;            // dense solves only
};

struct mixprec_packed_matrix_s : mixprec::capi::tagged<0x4d504309> {
  static constexpr const char* kind = "mixprec_packed_matrix";
  mixprec::packed_matrix packed;
};

struct mixprec_quant_params_s : mixprec::capi::tagged<0x4d50430a> {
  static constexpr const char* kind = "mixprec_quant_params";
  mixprec::quant_params params;
};

struct mixprec_block_matrix_s : mixprec::capi::tagged<0x4d50430b> {
  static constexpr const char* kind = "mixprec_block_matrix";
  mixprec::block_matrix matrix;
};

struct mixprec_kv_cache_s : mixprec::capi::tagged<0x4d50430c> {
  static constexpr const char* kind = "mixprec_kv_cache";
  mixprec::kv_cache cache;
};

struct mixprec_optimizer_s : mixprec::capi::tagged<0x4d50430d> {
  static constexpr const char* kind = "mixprec_optimizer";
  std::unique_ptr<mixprec::optimizer> opt;
};

struct mixprec_dense_solver_s : mixprec::capi::tagged<0x4d50430e> {
  static constexpr const char* kind = "mixprec_dense_solver";
  std::optional<mixprec::dense_ir_solver> solver;
};

struct mixprec_loss_scaler_s : mixprec::capi::tagged<0x4d50430f> {
  static constexpr const char* kind = "mixprec_loss_scaler";
  mixprec::loss_scaler scaler;
};

namespace mixprec::capi {

// ---- status and the per-thread message ---------------------------------------------------

const char* last_error();
mixprec_status last_status();
void record_success();
mixprec_status record_failure(mixprec_status s, const char* message);

/// Runs f, returning MIXPREC_SUCCESS, or the status of what it threw with its message kept
/// for mixprec_last_error(). Nothing escapes: the C caller cannot catch C++ exceptions.
template <class F>
mixprec_status guarded(F&& f) noexcept {
  try {
    f();
    record_success();
    return MIXPREC_SUCCESS;
  } catch (const error& e) {
    return record_failure(static_cast<mixprec_status>(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    return record_failure(MIXPREC_OUT_OF_MEMORY, "out of memory (std::bad_alloc)");
  } catch (const std::exception& e) {
    return record_failure(MIXPREC_INTERNAL, e.what());
  } catch (...) {
    return record_failure(MIXPREC_INTERNAL, "an unknown exception");
  }
}

/// The text rule of mixprec.h: copy what fits, terminate, return the bytes needed.
size_t copy_text(const std::string& text, char* buf, size_t len);

/// For the functions that return text: the text, or 0 with the message kept on error.
template <class F>
size_t guarded_text(char* buf, size_t len, F&& make_text) noexcept {
  size_t needed = 0;
  const mixprec_status s = guarded([&] { needed = copy_text(make_text(), buf, len); });
  return s == MIXPREC_SUCCESS ? needed : 0;
}

// ---- handles ------------------------------------------------------------------------------

template <class H>
H& deref(H* h, const char* fn, const char* what) {
  if (!h) MIXPREC_THROW(invalid_argument, fn, what, " is NULL");
  if (h->tag != H::tag_value)
    MIXPREC_THROW(invalid_argument, fn, what, " is not a live ", H::kind,
                  " (another kind of handle, or one already destroyed)");
  return *h;
}

/// Writes a new handle to *out last, so that a failed call leaves *out as it was.
template <class H>
void publish(std::unique_ptr<H> made, H** out) {
  *out = made.release();
}

template <class H>
void check_out(H** out, const char* fn) {
  if (!out) MIXPREC_THROW(invalid_argument, fn, "out is NULL");
}

template <class T>
void check_result(T* out, const char* fn, const char* what) {
  if (!out) MIXPREC_THROW(invalid_argument, fn, what, " is NULL");
}

/// Destroys a handle of the right kind; NULL is fine, anything else is ignored (destroy
/// functions return nothing to report it on, so the message is kept for last_error).
template <class H>
void destroy(H* h, const char* fn) noexcept {
  if (!h) return;
  if (h->tag != H::tag_value) {
    record_failure(MIXPREC_INVALID_ARGUMENT,
                   (std::string(fn) + ": not a live " + H::kind + "; nothing was freed").c_str());
    return;
  }
  delete h;
}

// ---- arrays -------------------------------------------------------------------------------

const_view input(mixprec_array a, const char* fn, const char* what);
view output(mixprec_array a, const char* fn, const char* what);
/// NULL: an empty view ("not given").
const_view optional_input(mixprec_array a, const char* fn, const char* what);
view optional_output(mixprec_array a, const char* fn, const char* what);
/// A new handle over v (which the caller keeps alive).
std::unique_ptr<mixprec_array_s> array_over(view v, bool read_only);

// ---- sparse matrices ------------------------------------------------------------------------

/// The matrix of a CSR handle, owned: the handle's own, or a copy of wrapped caller arrays.
std::shared_ptr<const csr_matrix> owned_csr(const mixprec_csr_s& h);

// ---- enums and options ----------------------------------------------------------------------

dtype to_dtype(mixprec_dtype t, const char* fn, const char* what);
accumulation to_accumulation(mixprec_accumulation a, const char* fn);
activation to_activation(mixprec_activation a, const char* fn);
trans to_trans(mixprec_trans t, const char* fn, const char* what);
const context& context_of(mixprec_context c, const char* fn);

/// Refuses an options struct not initialized by its *_init function (struct_size differs:
/// uninitialized, or built against another version of mixprec.h).
template <class O>
void check_struct(const O* o, const char* fn, const char* what, const char* init) {
  if (o && o->struct_size != sizeof(O))
    MIXPREC_THROW(invalid_argument, fn, what, "->struct_size is ", o->struct_size, ", this library's is ", sizeof(O),
                  ": initialize it with ", init);
}

solve_options to_solve_options(const mixprec_solve_options& o, const char* fn, const char* what);

}  // namespace mixprec::capi
