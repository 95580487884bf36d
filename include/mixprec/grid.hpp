// mixprec/grid.hpp — 2D and 3D structured grids with halos, and their boundary conditions.
//
//   mixprec::grid u(mixprec::dtype::f64, {256, 256, 256});   // 3D, halo 1, zero-initialised
//   u.at<double>(0, 0, 0) = 1.0;                             // CPU grids: element access,
//   u.at<double>(-1, 0, 0);                                  // halo included (index -halo..)
//   auto bc = mixprec::boundary_conditions::all(mixprec::boundary::periodic);
//   bc.lo[2] = {mixprec::boundary::dirichlet, 1.0};          // z = 0 face held at 1.0
//   mixprec::fill_halo(u, bc);
//
// Layout. x is the contiguous axis. The interior point (0,0,0) sits at `origin()`; point
// (i,j,k) at origin + i + j*stride_y() + k*stride_z() elements, for -halo <= i < nx+halo and
// likewise in y and z (a 2D grid has nz = 1 and no halo in z). Owned grids pad each row so
// that x = 0 starts on a 64-byte boundary; grid::wrap takes a simulation code's own array
// with its own strides, without copying.
//
// Boundary conditions, per face, as fill_halo writes them into the halo (depth d = 1..halo):
//   dirichlet  halo = value                                  (the value at the ghost points)
//   neumann    halo(-d) = interior(d-1), mirrored at the face (zero normal flux)
//   periodic   halo(-d) = interior(n-d), halo(n-1+d) = interior(d-1); both faces of an axis
//              must say periodic
// Faces are filled axis by axis, x then y then z, each over the full extent (halos
// included) of the axes before it, so edges and corners are those of applying the three
// conditions in turn: what 27-point stencils read.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "mixprec/context.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

enum class boundary : std::uint8_t { dirichlet, periodic, neumann };
const char* name_of(boundary b);

struct face_condition {
  boundary kind = boundary::dirichlet;
  double value = 0.0;  // dirichlet only
};

/// One condition per face: lo[a] is the face at index -1 of axis a (0 = x, 1 = y, 2 = z).
struct boundary_conditions {
  std::array<face_condition, 3> lo{}, hi{};

  static boundary_conditions all(boundary kind, double value = 0.0) {
    boundary_conditions bc;
    for (int a = 0; a < 3; ++a) bc.lo[a] = bc.hi[a] = face_condition{kind, value};
    return bc;
  }
  bool periodic(int axis) const { return lo[axis].kind == boundary::periodic; }
};

/// Interior extent of a grid: nz == 1 and dims == 2 for 2D grids.
struct grid_extent {
  std::int64_t nx = 0, ny = 0, nz = 1;
  int dims = 3;
  grid_extent() = default;
  grid_extent(std::int64_t x, std::int64_t y) : nx(x), ny(y), nz(1), dims(2) {}
  grid_extent(std::int64_t x, std::int64_t y, std::int64_t z) : nx(x), ny(y), nz(z), dims(3) {}
  std::int64_t points() const { return nx * ny * nz; }
  bool operator==(const grid_extent& o) const { return nx == o.nx && ny == o.ny && nz == o.nz && dims == o.dims; }
  bool operator!=(const grid_extent& o) const { return !(*this == o); }
};

/// A structured grid of one dtype with a halo, owning its memory or wrapping the caller's.
/// Moving is cheap; copying is explicit (clone, to, copy_grid).
class grid {
 public:
  grid() = default;
  /// Allocates a zero-filled grid (halo included) in `ctx`.
  grid(dtype type, grid_extent extent, int halo = 1, const context& ctx = context::cpu());
  /// Wraps memory laid out as described above: `origin` points at interior (0,0,0), rows
  /// `stride_y` elements apart, planes `stride_z` apart (ignored in 2D). Checks that the
  /// strides leave room for the halo.
  static grid wrap(void* origin, dtype type, grid_extent extent, int halo, std::int64_t stride_y, std::int64_t stride_z,
                   const context& ctx = context::cpu());
  template <class T>
  static grid wrap(T* origin, grid_extent extent, int halo, std::int64_t stride_y, std::int64_t stride_z,
                   const context& ctx = context::cpu()) {
    return wrap(static_cast<void*>(origin), dtype_of<T>, extent, halo, stride_y, stride_z, ctx);
  }

  grid(grid&&) noexcept = default;
  grid& operator=(grid&&) noexcept = default;

  dtype type() const { return type_; }
  const grid_extent& extent() const { return extent_; }
  int dims() const { return extent_.dims; }
  std::int64_t nx() const { return extent_.nx; }
  std::int64_t ny() const { return extent_.ny; }
  std::int64_t nz() const { return extent_.nz; }
  std::int64_t points() const { return extent_.points(); }
  int halo() const { return halo_; }
  std::int64_t stride_y() const { return stride_y_; }
  std::int64_t stride_z() const { return stride_z_; }
  const context& ctx() const { return ctx_; }
  bool owns_memory() const { return bool(storage_); }

  void* origin() { return origin_; }
  const void* origin() const { return origin_; }
  /// Element offset of (i, j, k) from origin().
  std::int64_t offset(std::int64_t i, std::int64_t j, std::int64_t k = 0) const {
    return i + j * stride_y_ + k * stride_z_;
  }
  /// Element access for CPU grids, halo included (-halo <= i < nx + halo, likewise j and,
  /// in 3D, k; k = 0 in 2D). T must be the grid's dtype. A wrong T, an index outside the
  /// grid or a grid in device memory throws invalid_argument naming it.
  template <class T>
  T& at(std::int64_t i, std::int64_t j, std::int64_t k = 0) {
    check_at(dtype_of<T>, i, j, k);
    return static_cast<T*>(origin_)[offset(i, j, k)];
  }
  template <class T>
  const T& at(std::int64_t i, std::int64_t j, std::int64_t k = 0) const {
    check_at(dtype_of<T>, i, j, k);
    return static_cast<const T*>(origin_)[offset(i, j, k)];
  }

  /// A new zero-filled grid of the same extent and halo (dtype and context may differ).
  grid like(dtype type) const { return grid(type, extent_, halo_, ctx_); }
  grid like() const { return like(type_); }
  /// A deep copy (halo included) in `target`.
  grid to(const context& target) const;
  grid clone() const { return to(ctx_); }

  /// The interior, x fastest, as a view of shape {nz, ny, nx} (2D: {ny, nx}).
  view interior();
  const_view interior() const;

 private:
  void check_at(dtype t, std::int64_t i, std::int64_t j, std::int64_t k) const {
    const auto inside = [&](std::int64_t v, std::int64_t n) { return v >= -halo_ && v < n + halo_; };
    if (t != type_ || !host_ || !inside(i, extent_.nx) || !inside(j, extent_.ny) ||
        !(extent_.dims == 3 ? inside(k, extent_.nz) : k == 0))
      refuse_at(t, i, j, k);
  }
  [[noreturn]] void refuse_at(dtype t, std::int64_t i, std::int64_t j, std::int64_t k) const;

  context ctx_;
  dtype type_ = dtype::f64;
  grid_extent extent_{};
  int halo_ = 0;
  std::int64_t stride_y_ = 0, stride_z_ = 0;
  std::shared_ptr<void> storage_;  // null for wrapped grids
  void* origin_ = nullptr;
  bool host_ = false;  // CPU memory: at() may read it
};

/// Writes the halo of g from its interior and the boundary conditions (see above). Throws
/// if an axis is periodic on one face only, or periodic along an axis shorter than the halo.
void fill_halo(grid& g, const boundary_conditions& bc);

/// Copies the interior of src into dst, converting between dtypes (rounding to nearest
/// even); same extent, any halos and contexts in one memory space.
void copy_interior(const grid& src, grid& dst);

}  // namespace mixprec

MIXPREC_PUBLIC_END
