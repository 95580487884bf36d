// The C API's core: status and dtype names, version, contexts, arrays, conversions and
// BLAS-1 (include/mixprec/mixprec.h).
#include "capi/capi_support.hpp"
#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/version.hpp"
#ifdef MIXPREC_HAVE_DLPACK
#include "mixprec/dlpack.hpp"
#endif

using namespace mixprec;
using namespace mixprec::capi;

extern "C" {

const char* mixprec_last_error(void) { return capi::last_error(); }
mixprec_status mixprec_last_status(void) { return capi::last_status(); }

const char* mixprec_status_name(mixprec_status s) {
  const int v = int(s);
  return v >= 0 && v <= int(MIXPREC_INTERNAL) ? name_of(static_cast<status>(v)) : "?";
}

const char* mixprec_dtype_name(mixprec_dtype t) {
  const int v = int(t);
  return v >= 0 && v < dtype_count ? name_of(static_cast<dtype>(v)) : "?";
}

size_t mixprec_dtype_size(mixprec_dtype t) {
  const int v = int(t);
  return v >= 0 && v < dtype_count ? size_of(static_cast<dtype>(v)) : 0;
}

mixprec_status mixprec_dtype_parse(const char* name, mixprec_dtype* out) {
  constexpr const char* fn = "mixprec_dtype_parse";
  return guarded([&] {
    check_result(name, fn, "name");
    check_result(out, fn, "out");
    *out = static_cast<mixprec_dtype>(parse_dtype(name));
  });
}

const char* mixprec_version_string(void) { return version_string(); }
int mixprec_abi_version(void) { return MIXPREC_C_ABI_VERSION; }

}  // extern "C"

// ---- contexts ------------------------------------------------------------------------------

namespace {
mixprec_status make_context(mixprec_context* out, const char* fn, context (*make)(int), int arg) {
  return guarded([&] {
    check_out(out, fn);
    auto h = std::make_unique<mixprec_context_s>();
    h->ctx = make(arg);
    publish(std::move(h), out);
  });
}
}  // namespace

extern "C" {

mixprec_status mixprec_context_create_cpu(int threads, mixprec_context* out) {
  return make_context(
      out, "mixprec_context_create_cpu", [](int t) { return context::cpu(t); }, threads);
}
mixprec_status mixprec_context_create_cuda(int device, mixprec_context* out) {
  return make_context(
      out, "mixprec_context_create_cuda", [](int d) { return context::cuda(d); }, device);
}
mixprec_status mixprec_context_create_best(mixprec_context* out) {
  return make_context(
      out, "mixprec_context_create_best", [](int) { return context::best(); }, 0);
}
void mixprec_context_destroy(mixprec_context ctx) { destroy(ctx, "mixprec_context_destroy"); }

mixprec_status mixprec_context_backend(mixprec_context ctx, mixprec_backend* out) {
  constexpr const char* fn = "mixprec_context_backend";
  return guarded([&] {
    const context& c = context_of(ctx, fn);
    check_result(out, fn, "out");
    *out = c.kind() == backend::cuda ? MIXPREC_BACKEND_CUDA : MIXPREC_BACKEND_CPU;
  });
}

mixprec_status mixprec_context_threads(mixprec_context ctx, int* out) {
  constexpr const char* fn = "mixprec_context_threads";
  return guarded([&] {
    const context& c = context_of(ctx, fn);
    check_result(out, fn, "out");
    *out = c.threads();
  });
}

size_t mixprec_context_describe(mixprec_context ctx, char* buf, size_t len) {
  return guarded_text(buf, len, [&] { return context_of(ctx, "mixprec_context_describe").describe(); });
}

mixprec_status mixprec_context_synchronize(mixprec_context ctx) {
  return guarded([&] { context_of(ctx, "mixprec_context_synchronize").synchronize(); });
}

mixprec_status mixprec_context_supports(mixprec_context ctx, const char* op, mixprec_dtype in, mixprec_dtype out_type,
                                        int* out) {
  constexpr const char* fn = "mixprec_context_supports";
  return guarded([&] {
    const context& c = context_of(ctx, fn);
    check_result(op, fn, "op");
    check_result(out, fn, "out");
    *out = c.supports(op, to_dtype(in, fn, "in"), to_dtype(out_type, fn, "out_type")) ? 1 : 0;
  });
}

// ---- arrays ---------------------------------------------------------------------------------

mixprec_status mixprec_array_wrap(mixprec_context ctx, void* data, mixprec_dtype type, int rank, const int64_t* shape,
                                  const int64_t* strides, mixprec_array* out) {
  constexpr const char* fn = "mixprec_array_wrap";
  return guarded([&] {
    check_out(out, fn);
    publish(array_over(make_view(data, to_dtype(type, fn, "type"), rank, shape, strides, context_of(ctx, fn)), false),
            out);
  });
}

mixprec_status mixprec_array_wrap_const(mixprec_context ctx, const void* data, mixprec_dtype type, int rank,
                                        const int64_t* shape, const int64_t* strides, mixprec_array* out) {
  constexpr const char* fn = "mixprec_array_wrap_const";
  return guarded([&] {
    check_out(out, fn);
    // The view's pointer is writable in type only: output() refuses read-only handles.
    publish(array_over(make_view(const_cast<void*>(data), to_dtype(type, fn, "type"), rank, shape, strides,
                                 context_of(ctx, fn)),
                       true),
            out);
  });
}

mixprec_status mixprec_array_create(mixprec_context ctx, mixprec_dtype type, int rank, const int64_t* shape,
                                    mixprec_array* out) {
  constexpr const char* fn = "mixprec_array_create";
  return guarded([&] {
    check_out(out, fn);
    const context& c = context_of(ctx, fn);
    const dtype t = to_dtype(type, fn, "type");
    if (rank < 1 || rank > max_rank) MIXPREC_THROW(invalid_argument, fn, "rank ", rank, " (1 to ", max_rank, ")");
    check_result(shape, fn, "shape");
    std::int64_t n = 1;
    for (int d = 0; d < rank; ++d) {
      if (shape[d] < 0) MIXPREC_THROW(invalid_argument, fn, "shape[", d, "] = ", shape[d], " is negative");
      if (shape[d] > 0 && n > (std::int64_t(1) << 62) / shape[d])
        MIXPREC_THROW(invalid_argument, fn, "the shape's element count overflows 64 bits");
      n *= shape[d];
    }
    auto h = std::make_unique<mixprec_array_s>();
    h->owned = buffer(t, n, c);
    h->view = make_view(h->owned.data(), t, rank, shape, nullptr, c);
    publish(std::move(h), out);
  });
}

void mixprec_array_destroy(mixprec_array a) { destroy(a, "mixprec_array_destroy"); }

mixprec_status mixprec_array_data(mixprec_array a, void** out) {
  constexpr const char* fn = "mixprec_array_data";
  return guarded([&] {
    const auto& h = deref(a, fn, "a");
    check_result(out, fn, "out");
    *out = h.view.data();
  });
}

mixprec_status mixprec_array_dtype(mixprec_array a, mixprec_dtype* out) {
  constexpr const char* fn = "mixprec_array_dtype";
  return guarded([&] {
    const auto& h = deref(a, fn, "a");
    check_result(out, fn, "out");
    *out = static_cast<mixprec_dtype>(h.view.type());
  });
}

mixprec_status mixprec_array_rank(mixprec_array a, int* out) {
  constexpr const char* fn = "mixprec_array_rank";
  return guarded([&] {
    const auto& h = deref(a, fn, "a");
    check_result(out, fn, "out");
    *out = h.view.rank();
  });
}

mixprec_status mixprec_array_shape(mixprec_array a, int64_t* shape, int64_t* strides) {
  constexpr const char* fn = "mixprec_array_shape";
  return guarded([&] {
    const view& v = deref(a, fn, "a").view;
    for (int d = 0; d < max_rank; ++d) {
      if (shape) shape[d] = d < v.rank() ? v.extent(d) : 0;
      if (strides) strides[d] = d < v.rank() ? v.stride(d) : 0;
    }
  });
}

mixprec_status mixprec_array_size(mixprec_array a, int64_t* out) {
  constexpr const char* fn = "mixprec_array_size";
  return guarded([&] {
    const auto& h = deref(a, fn, "a");
    check_result(out, fn, "out");
    *out = h.view.size();
  });
}

mixprec_status mixprec_array_from_dlpack(struct DLManagedTensor* t, mixprec_array* out) {
  constexpr const char* fn = "mixprec_array_from_dlpack";
  return guarded([&] {
    check_out(out, fn);
    check_result(t, fn, "t");
#ifdef MIXPREC_HAVE_DLPACK
    auto h = array_over(from_dlpack(t->dl_tensor), false);
    h->keep = std::shared_ptr<void>(t, [](void* p) {
      auto* m = static_cast<DLManagedTensor*>(p);
      if (m->deleter) m->deleter(m);
    });
    publish(std::move(h), out);
#else
    MIXPREC_THROW(unsupported, fn, "this library was built without DLPack (libdlpack-dev)");
#endif
  });
}

mixprec_status mixprec_array_to_dlpack(mixprec_array a, struct DLManagedTensor** out) {
  constexpr const char* fn = "mixprec_array_to_dlpack";
  return guarded([&] {
    const view& v = deref(a, fn, "a").view;
    check_out(out, fn);
#ifdef MIXPREC_HAVE_DLPACK
    *out = to_dlpack(v, nullptr);
#else
    (void)v;
    MIXPREC_THROW(unsupported, fn, "this library was built without DLPack (libdlpack-dev)");
#endif
  });
}

// ---- conversions and BLAS-1 -----------------------------------------------------------------

mixprec_status mixprec_copy(mixprec_array src, mixprec_array dst) {
  constexpr const char* fn = "mixprec_copy";
  return guarded([&] { copy(input(src, fn, "src"), output(dst, fn, "dst")); });
}

mixprec_status mixprec_convert(mixprec_array x, mixprec_array y) {
  constexpr const char* fn = "mixprec_convert";
  return guarded([&] { convert(input(x, fn, "x"), output(y, fn, "y")); });
}

mixprec_status mixprec_fill(mixprec_array x, double value) {
  return guarded([&] { fill(output(x, "mixprec_fill", "x"), value); });
}

mixprec_status mixprec_axpy(double alpha, mixprec_array x, mixprec_array y) {
  constexpr const char* fn = "mixprec_axpy";
  return guarded([&] { axpy(alpha, input(x, fn, "x"), output(y, fn, "y")); });
}

mixprec_status mixprec_axpby(double alpha, mixprec_array x, double beta, mixprec_array y) {
  constexpr const char* fn = "mixprec_axpby";
  return guarded([&] { axpby(alpha, input(x, fn, "x"), beta, output(y, fn, "y")); });
}

mixprec_status mixprec_scal(double alpha, mixprec_array x) {
  return guarded([&] { scal(alpha, output(x, "mixprec_scal", "x")); });
}

mixprec_status mixprec_dot(mixprec_array x, mixprec_array y, mixprec_accumulation acc, double* out) {
  constexpr const char* fn = "mixprec_dot";
  return guarded([&] {
    const const_view xv = input(x, fn, "x"), yv = input(y, fn, "y");
    const accumulation a = to_accumulation(acc, fn);
    check_result(out, fn, "out");
    *out = dot(xv, yv, a);
  });
}

}  // extern "C"

namespace {
template <class Reduce>
mixprec_status reduction(mixprec_array x, mixprec_accumulation acc, double* out, const char* fn, Reduce reduce) {
  return guarded([&] {
    const const_view xv = input(x, fn, "x");
    const accumulation a = to_accumulation(acc, fn);
    check_result(out, fn, "out");
    *out = reduce(xv, a);
  });
}
}  // namespace

extern "C" {

mixprec_status mixprec_nrm2(mixprec_array x, mixprec_accumulation acc, double* out) {
  return reduction(x, acc, out, "mixprec_nrm2", [](const_view v, accumulation a) { return nrm2(v, a); });
}

mixprec_status mixprec_asum(mixprec_array x, mixprec_accumulation acc, double* out) {
  return reduction(x, acc, out, "mixprec_asum", [](const_view v, accumulation a) { return asum(v, a); });
}

mixprec_status mixprec_amax(mixprec_array x, int64_t* out) {
  constexpr const char* fn = "mixprec_amax";
  return guarded([&] {
    const const_view xv = input(x, fn, "x");
    check_result(out, fn, "out");
    *out = amax(xv);
  });
}

}  // extern "C"
