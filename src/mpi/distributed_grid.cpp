// Structured grids decomposed over processes: the Cartesian communicator, the halo
// exchange (axis by axis, so edges and corners travel with the faces of later axes), the
// boundary conditions on the global faces, and the stencil operator over the blocks.
#include <algorithm>
#include <cstring>

#include "mixprec/blas1.hpp"
#include "mpi/mpi_support.hpp"

namespace mixprec {
namespace detail {

struct cartesian_state {
  communicator comm;
  MPI_Comm cart = MPI_COMM_NULL;
  grid_extent global, local;
  boundary_conditions bc;
  std::array<int, 3> dims{1, 1, 1}, coords{0, 0, 0};
  std::array<std::int64_t, 3> first{0, 0, 0};
  std::array<int, 3> lo{MPI_PROC_NULL, MPI_PROC_NULL, MPI_PROC_NULL}, hi{MPI_PROC_NULL, MPI_PROC_NULL, MPI_PROC_NULL};
  // Message buffers of the exchanges, [axis][lo, hi][send, receive], grown as needed and
  // kept: one exchange on a decomposition is in flight at a time, as MPI calls on one
  // communicator are issued from one thread.
  mutable std::vector<unsigned char> halo_buffers[3][2][2];

  explicit cartesian_state(const communicator& c) : comm(c) {}
  ~cartesian_state() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && cart != MPI_COMM_NULL) MPI_Comm_free(&cart);
  }
  cartesian_state(const cartesian_state&) = delete;
  cartesian_state& operator=(const cartesian_state&) = delete;
};

namespace {

constexpr const char* grid_op = "cartesian_grid";

/// Index ranges [begin, end) per axis of a block of a grid.
struct region {
  std::array<std::int64_t, 3> begin{0, 0, 0}, end{1, 1, 1};
  std::int64_t points() const { return (end[0] - begin[0]) * (end[1] - begin[1]) * (end[2] - begin[2]); }
};

/// The slab of axis `a` at indices [from, from + h) whose other axes span what the pass of
/// axis a covers: the full extent with halo for the axes before it, the interior after.
region slab(const grid& u, int a, std::int64_t from, bool edges = true) {
  const std::int64_t n[3] = {u.nx(), u.ny(), u.nz()};
  const std::int64_t h = u.halo();
  region r;
  for (int b = 0; b < 3; ++b) {
    if (b >= u.dims()) {
      r.begin[b] = 0, r.end[b] = 1;
    } else if (b == a) {
      r.begin[b] = from, r.end[b] = from + h;
    } else if (b < a && edges) {
      r.begin[b] = -h, r.end[b] = n[b] + h;
    } else {
      r.begin[b] = 0, r.end[b] = n[b];
    }
  }
  return r;
}

/// Calls f(element offset, run length) for each x-contiguous run of the region.
template <class F>
void for_runs(const grid& u, const region& r, F&& f) {
  for (std::int64_t k = r.begin[2]; k < r.end[2]; ++k)
    for (std::int64_t j = r.begin[1]; j < r.end[1]; ++j) f(u.offset(r.begin[0], j, k), r.end[0] - r.begin[0]);
}

enum class direction { to_wire, from_wire };

/// Moves the region of u into `buf`, in the wire's dtype, or back from it; the same dtype
/// copies bytes.
void transfer(grid& u, const region& r, dtype wire, unsigned char* buf, direction d) {
  const std::size_t es = size_of(u.type()), ws = size_of(wire);
  auto* base = static_cast<unsigned char*>(u.origin());
  const bool out = d == direction::to_wire;
  if (wire == u.type()) {
    for_runs(u, r, [&](std::int64_t at, std::int64_t len) {
      unsigned char* g = base + at * std::int64_t(es);
      const std::size_t bytes = std::size_t(len) * es;
      out ? std::memcpy(buf, g, bytes) : std::memcpy(g, buf, bytes);
      buf += bytes;
    });
    return;
  }
  auto run = [&](auto t, auto w) {
    using T = decltype(t);
    using W = decltype(w);
    for_runs(u, r, [&](std::int64_t at, std::int64_t len) {
      T* g = reinterpret_cast<T*>(base) + at;
      W* b = reinterpret_cast<W*>(buf);
      for (std::int64_t i = 0; i < len; ++i) {
        if (out)
          b[i] = W(g[i]);
        else
          g[i] = from_wire<T>(b[i]);
      }
      buf += std::size_t(len) * ws;
    });
  };
  auto with_wire = [&](auto t) { wire == dtype::f32 ? run(t, float{}) : run(t, bfloat16{}); };
  u.type() == dtype::f64 ? with_wire(double{}) : with_wire(float{});
}

/// The boundary condition of a global face (not periodic: those come from a neighbour) on
/// the halo slab of axis a, side hi or lo, as fill_halo writes it.
void apply_face(grid& u, int a, bool hi, const face_condition& f, bool edges = true) {
  const std::int64_t n[3] = {u.nx(), u.ny(), u.nz()};
  const std::int64_t h = u.halo();
  const std::size_t es = size_of(u.type());
  auto* base = static_cast<unsigned char*>(u.origin());
  if (f.kind == boundary::dirichlet) {
    unsigned char value[8];
    switch (u.type()) {
      case dtype::f64: {
        const double v = f.value;
        std::memcpy(value, &v, 8);
        break;
      }
      case dtype::f32: {
        const float v = float(f.value);
        std::memcpy(value, &v, 4);
        break;
      }
      case dtype::f16: {
        const half v(f.value);
        std::memcpy(value, &v, 2);
        break;
      }
      default: {
        const bfloat16 v(f.value);
        std::memcpy(value, &v, 2);
        break;
      }
    }
    for_runs(u, slab(u, a, hi ? n[a] : -h, edges), [&](std::int64_t at, std::int64_t len) {
      for (std::int64_t i = 0; i < len; ++i) std::memcpy(base + (at + i) * std::int64_t(es), value, es);
    });
    return;
  }
  // Neumann: halo(-d) = interior(d - 1), halo(n - 1 + d) = interior(n - d), mirrored.
  for (std::int64_t d = 1; d <= h; ++d) {
    region dst = slab(u, a, hi ? n[a] - 1 + d : -d, edges), src = dst;
    dst.end[a] = dst.begin[a] + 1;
    src.begin[a] = hi ? n[a] - d : d - 1;
    src.end[a] = src.begin[a] + 1;
    std::vector<std::int64_t> from;
    for_runs(u, src, [&](std::int64_t at, std::int64_t) { from.push_back(at); });
    std::size_t row = 0;
    for_runs(u, dst, [&](std::int64_t at, std::int64_t len) {
      std::memmove(base + at * std::int64_t(es), base + from[row++] * std::int64_t(es), std::size_t(len) * es);
    });
  }
}

/// Where global index g + d of an axis of n points reads its value from under the face
/// conditions: a global index, or -1 for a Dirichlet value (as fill_halo's rules say).
std::int64_t source_index(std::int64_t g, std::int64_t n, const face_condition& lo, const face_condition& hi) {
  if (g >= 0 && g < n) return g;
  const face_condition& f = g < 0 ? lo : hi;
  if (f.kind == boundary::periodic) return g < 0 ? g + n : g - n;
  if (f.kind == boundary::neumann) return g < 0 ? -1 - g : 2 * n - 1 - g;
  return -1;
}

}  // namespace
}  // namespace detail

cartesian_grid::cartesian_grid(const communicator& comm, grid_extent global, const boundary_conditions& bc,
                               std::array<int, 3> processes, std::int64_t align) {
  auto s = std::make_shared<detail::cartesian_state>(comm);
  s->global = global;
  s->bc = bc;
  const int dims = global.dims;
  std::int64_t align_range[2] = {-align, align};  // -min, max over the processes
  MPI_Allreduce(MPI_IN_PLACE, align_range, 2, MPI_INT64_T, MPI_MAX, comm.get());
  detail::agreed(comm.reductions(), [&] {
    if (dims != 2 && dims != 3) MIXPREC_MPI_THROW(invalid_argument, detail::grid_op, "a grid of ", dims, " dimensions");
    if (align < 1) MIXPREC_MPI_THROW(invalid_argument, detail::grid_op, "align ", align, "; it must be >= 1");
    if (-align_range[0] != align_range[1])
      MIXPREC_MPI_THROW(invalid_argument, detail::grid_op, "align ", align, " here, but the processes pass from ",
                        -align_range[0], " to ", align_range[1]);
    for (int a = 0; a < dims; ++a)
      if (bc.periodic(a) != (bc.hi[std::size_t(a)].kind == boundary::periodic))
        MIXPREC_MPI_THROW(invalid_argument, detail::grid_op, "axis ", a, " is periodic on one face only");
    int product = 1;
    for (int a = 0; a < 3; ++a) {
      if (processes[std::size_t(a)] < 0 || (a >= dims && processes[std::size_t(a)] > 1))
        MIXPREC_MPI_THROW(invalid_argument, detail::grid_op, "processes[", a, "] = ", processes[std::size_t(a)]);
      product *= std::max(1, processes[std::size_t(a)]);
    }
    if (std::find(processes.begin(), processes.begin() + dims, 0) == processes.begin() + dims && product != comm.size())
      MIXPREC_MPI_THROW(shape_mismatch, detail::grid_op, "the process grid has ", product,
                        " processes, the communicator ", comm.size());
  });

  int d[3] = {processes[0], processes[1], dims == 3 ? processes[2] : 1};
  MPI_Dims_create(comm.size(), dims, d);
  int periods[3] = {bc.periodic(0), bc.periodic(1), dims == 3 && bc.periodic(2)};
  MPI_Cart_create(comm.get(), dims, d, periods, 0, &s->cart);
  int c[3] = {0, 0, 0};
  MPI_Cart_coords(s->cart, comm.rank(), dims, c);
  const std::int64_t n[3] = {global.nx, global.ny, global.nz};
  std::int64_t local[3] = {1, 1, 1};
  for (int a = 0; a < dims; ++a) {
    s->dims[std::size_t(a)] = d[a];
    s->coords[std::size_t(a)] = c[a];
    // Even in units of `align` points (checked >= 1 above); the last unit (and block) may be short.
    const row_partition split = row_partition::even((n[a] + align - 1) / align, d[a]);
    s->first[std::size_t(a)] = std::min(n[a], split.offsets[std::size_t(c[a])] * align);
    local[a] = std::min(n[a], split.offsets[std::size_t(c[a]) + 1] * align) - s->first[std::size_t(a)];
    MPI_Cart_shift(s->cart, a, 1, &s->lo[std::size_t(a)], &s->hi[std::size_t(a)]);
  }
  detail::agreed(comm.reductions(), [&] {
    for (int a = 0; a < dims; ++a)
      if (local[a] < 1)
        MIXPREC_MPI_THROW(invalid_argument, detail::grid_op, "axis ", a, " of ", n[a], " points over ", d[a],
                          " processes leaves this process none");
  });
  s->local = dims == 3 ? grid_extent(local[0], local[1], local[2]) : grid_extent(local[0], local[1]);
  state_ = std::move(s);
}

const grid_extent& cartesian_grid::global_extent() const { return state_->global; }
const grid_extent& cartesian_grid::local_extent() const { return state_->local; }
std::array<std::int64_t, 3> cartesian_grid::first() const { return state_->first; }
std::array<int, 3> cartesian_grid::processes() const { return state_->dims; }
std::array<int, 3> cartesian_grid::coords() const { return state_->coords; }
const boundary_conditions& cartesian_grid::boundaries() const { return state_->bc; }
const communicator& cartesian_grid::comm() const { return state_->comm; }

namespace detail {

/// One grid's halo exchange, axis by axis: post(a) packs and sends axis a's two slabs and
/// posts their receives; finish(a) waits for them, unpacks, and applies the conditions of
/// the global faces. With edges, an axis's slabs span the halos of the axes before it, so
/// each axis must finish before the next posts, and edges and corners travel with the later
/// faces (what fill_halo makes); without, only the faces travel and every axis can be in
/// flight at once (all a star stencil reads). The message buffers are the state's, reused.
class halo_exchange {
 public:
  halo_exchange(const cartesian_state& s, grid& u, dtype wire, bool edges) : s_(s), u_(u), wire_(wire), edges_(edges) {}

  void post(int a) {
    const std::int64_t n = axis_length(a), h = u_.halo();
    const std::size_t count = std::size_t(slab(u_, a, 0, edges_).points()) * size_of(wire_);
    auto& b = s_.halo_buffers[a];
    for (auto& side : b)
      for (auto& v : side)
        if (v.size() < count) v.resize(count);
    const int lo = s_.lo[std::size_t(a)], hi = s_.hi[std::size_t(a)], len = int(count);
    // Tags say which way a slab travels, so that a process that is its own neighbour (one
    // process along a periodic axis) matches its hi send with its lo receive.
    MPI_Irecv(b[0][1].data(), len, MPI_BYTE, lo, 2 * a + 0, s_.cart, &requests_[a][0]);
    MPI_Irecv(b[1][1].data(), len, MPI_BYTE, hi, 2 * a + 1, s_.cart, &requests_[a][1]);
    std::int64_t messages = 0;
    if (hi != MPI_PROC_NULL) {
      transfer(u_, slab(u_, a, n - h, edges_), wire_, b[1][0].data(), direction::to_wire);
      ++messages;
    }
    if (lo != MPI_PROC_NULL) {
      transfer(u_, slab(u_, a, 0, edges_), wire_, b[0][0].data(), direction::to_wire);
      ++messages;
    }
    MPI_Isend(b[1][0].data(), len, MPI_BYTE, hi, 2 * a + 0, s_.cart, &requests_[a][2]);
    MPI_Isend(b[0][0].data(), len, MPI_BYTE, lo, 2 * a + 1, s_.cart, &requests_[a][3]);
    static_cast<const communicator_state&>(s_.comm.reductions()).count_halo(messages, messages * len);
  }

  void finish(int a) {
    const std::int64_t n = axis_length(a), h = u_.halo();
    auto& b = s_.halo_buffers[a];
    MPI_Waitall(4, requests_[a], MPI_STATUSES_IGNORE);
    if (s_.lo[std::size_t(a)] != MPI_PROC_NULL)
      transfer(u_, slab(u_, a, -h, edges_), wire_, b[0][1].data(), direction::from_wire);
    else
      apply_face(u_, a, false, s_.bc.lo[std::size_t(a)], edges_);
    if (s_.hi[std::size_t(a)] != MPI_PROC_NULL)
      transfer(u_, slab(u_, a, n, edges_), wire_, b[1][1].data(), direction::from_wire);
    else
      apply_face(u_, a, true, s_.bc.hi[std::size_t(a)], edges_);
  }

 private:
  std::int64_t axis_length(int a) const { return a == 0 ? u_.nx() : a == 1 ? u_.ny() : u_.nz(); }

  const cartesian_state& s_;
  grid& u_;
  dtype wire_;
  bool edges_;
  MPI_Request requests_[3][4] = {{MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL},
                                 {MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL},
                                 {MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL}};
};

/// The exchange itself, on arguments every process has checked.
void exchange(const cartesian_state& s, grid& u, dtype wire) {
  if (u.halo() == 0) return;
  halo_exchange x(s, u, wire, true);
  for (int a = 0; a < u.dims(); ++a) {
    x.post(a);
    x.finish(a);
  }
}

}  // namespace detail

void cartesian_grid::exchange_halo(grid& u, dtype wire) const {
  constexpr const char* op = "cartesian_grid::exchange_halo";
  const detail::cartesian_state& s = *state_;
  detail::agreed(s.comm.reductions(), [&] {
    if (u.extent() != s.local)
      MIXPREC_MPI_THROW(shape_mismatch, op, "the grid is ", u.nx(), "x", u.ny(), "x", u.nz(), ", this process's block ",
                        s.local.nx, "x", s.local.ny, "x", s.local.nz);
    if (u.ctx().kind() != backend::cpu) MIXPREC_MPI_THROW(unsupported, op, "grids in CPU memory only");
    if (wire != u.type() &&
        !((u.type() == dtype::f64 || u.type() == dtype::f32) && (wire == dtype::f32 || wire == dtype::bf16)))
      MIXPREC_MPI_THROW(invalid_argument, op, "halo values of a ", name_of(u.type()), " grid cannot travel in ",
                        name_of(wire));
    const std::int64_t n[3] = {u.nx(), u.ny(), u.nz()};
    for (int a = 0; a < u.dims(); ++a)
      if (u.halo() > n[a] && (s.dims[std::size_t(a)] > 1 || s.bc.periodic(a)))
        MIXPREC_MPI_THROW(invalid_argument, op, "a halo of ", u.halo(), " is deeper than the block's ", n[a],
                          " points along axis ", a);
  });
  exchange(s, u, wire);
}

namespace {

/// The checks the sweeps make (callers agree on them before the first exchange).
void check_sweeps(const char* op, const cartesian_grid& g, const stencil& s, const grid& u, const grid* f,
                  const grid& scratch, int sweeps) {
  for (const grid* x : {&u, &scratch, f}) {
    if (!x) continue;
    if (x->extent() != g.local_extent() || x->type() != u.type())
      MIXPREC_MPI_THROW(shape_mismatch, op, "a grid of ", x->nx(), "x", x->ny(), "x", x->nz(), " ", name_of(x->type()),
                        " where this process's block is ", g.local_extent().nx, "x", g.local_extent().ny, "x",
                        g.local_extent().nz, " ", name_of(u.type()));
  }
  if (u.halo() < s.radius() || scratch.halo() < s.radius())
    MIXPREC_MPI_THROW(invalid_argument, op, "halos of ", u.halo(), " and ", scratch.halo(), " for a stencil of radius ",
                      s.radius());
  if (sweeps < 0) MIXPREC_MPI_THROW(invalid_argument, op, "sweeps = ", sweeps, " is negative");
}

/// Sweeps with `one_sweep(in, out)` between exchanges; the result's halo exchanged too.
template <class Sweep>
grid& sweep_across(const detail::cartesian_state& g, grid& u, grid& scratch, int sweeps, Sweep&& one_sweep) {
  grid* src = &u;
  grid* dst = &scratch;
  detail::exchange(g, u, u.type());
  for (int k = 0; k < sweeps; ++k) {
    one_sweep(*src, *dst);
    detail::exchange(g, *dst, dst->type());
    std::swap(src, dst);
  }
  return *src;
}

}  // namespace

grid& jacobi_sweeps(const cartesian_grid& g, const stencil& s, grid& u, const grid* f, grid& scratch, int sweeps,
                    double omega) {
  detail::agreed(g.comm().reductions(), [&] { check_sweeps("jacobi_sweeps", g, s, u, f, scratch, sweeps); });
  return sweep_across(*g.state_, u, scratch, sweeps, [&](grid& in, grid& out) { jacobi_sweep(s, in, f, out, omega); });
}

grid& heat_steps(const cartesian_grid& g, grid& u, grid& scratch, double r, int steps) {
  constexpr const char* op = "heat_steps";
  const int dims = g.global_extent().dims;
  const stencil lap = dims == 2 ? stencil::laplace_2d5() : stencil::laplace_3d7();
  detail::agreed(g.comm().reductions(), [&] {
    const double limit = 1.0 / (2.0 * dims);
    if (!(r >= 0.0) || r > limit)
      MIXPREC_MPI_THROW(invalid_argument, op, "r = kappa*dt/h^2 = ", r, " is outside the stable range [0, ", limit,
                        "] of explicit Euler in ", dims, "D");
    check_sweeps(op, g, lap, u, nullptr, scratch, steps);
  });
  // u + r*Laplacian(u) = (I - r*L) u, its coefficients formed as the one-process step forms
  // them (-r times L's, plus 1 at the center), so that each step rounds the same way.
  std::vector<stencil_point> points;
  for (stencil_point p : lap.points()) {
    double c = -r * p.coeff;
    if (p.dx == 0 && p.dy == 0 && p.dz == 0) c += 1.0;
    p.coeff = c;
    points.push_back(p);
  }
  const stencil step(dims, points);
  return sweep_across(*g.state_, u, scratch, steps,
                      [&](grid& in, grid& out) { stencil_apply(step, 1.0, in, 0.0, out); });
}

distributed_stencil_operator::distributed_stencil_operator(const cartesian_grid& g, stencil s, dtype halo,
                                                           dtype inner_halo)
    : linear_operator(g.local_extent().points(), g.local_extent().points(), context::cpu()),
      grid_(g),
      stencil_(std::move(s)),
      halo_(halo),
      inner_halo_(inner_halo),
      scratch_(std::make_shared<grid>()) {
  if (stencil_.dims() != g.global_extent().dims)
    MIXPREC_MPI_THROW(shape_mismatch, "distributed_stencil_operator", "a ", stencil_.dims(), "D stencil on a ",
                      g.global_extent().dims, "D grid");
  for (dtype w : {halo, inner_halo})
    if (w != dtype::f64 && w != dtype::f32 && w != dtype::bf16)
      MIXPREC_MPI_THROW(invalid_argument, "distributed_stencil_operator", "halo precision ", name_of(w),
                        ": f64, f32 or bf16");
}

void distributed_stencil_operator::apply(double alpha, const_view x, double beta, view y) const {
  constexpr const char* op = "distributed_stencil_operator::apply";
  const grid_extent& e = grid_.local_extent();
  const auto& comm = static_cast<const detail::communicator_state&>(grid_.comm().reductions());
  // A process with a bad argument still exchanges (its scratch grid), then all throw.
  detail::argument_agreement agreement(comm, detail::caught([&] { check_vectors(op, x, y); }));
  const bool bad = agreement.locally_bad();
  const dtype vt = bad ? dtype::f64 : x.type();
  grid& g = *scratch_;
  if (g.ctx().empty() || g.type() != vt) g = grid(vt, e, std::max(1, stencil_.radius()), ctx());
  if (!bad) {
    const grid xg = grid::wrap(const_cast<void*>(x.data()), x.type(), e, 0, e.nx, e.nx * e.ny, ctx());
    copy_interior(xg, g);
  }
  const dtype wire = detail::wire_for(halo_, vt);
  const int r = stencil_.radius(), dims = e.dims;
  const std::int64_t n[3] = {e.nx, e.ny, e.nz};
  // The points of the box [lo, hi) of the block: a stencil_apply on views of it, which
  // computes each point exactly as the whole block's would.
  auto apply_box = [&](std::array<std::int64_t, 3> lo, std::array<std::int64_t, 3> hi) {
    for (int a = 0; a < 3; ++a)
      if (hi[std::size_t(a)] <= lo[std::size_t(a)]) return;
    const grid_extent box = dims == 3 ? grid_extent(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])
                                      : grid_extent(hi[0] - lo[0], hi[1] - lo[1]);
    const std::size_t es = size_of(vt);
    const grid in = grid::wrap(static_cast<char*>(g.origin()) + g.offset(lo[0], lo[1], lo[2]) * std::int64_t(es), vt,
                               box, g.halo(), g.stride_y(), g.stride_z(), ctx());
    grid out =
        grid::wrap(static_cast<char*>(y.data()) + (lo[0] + lo[1] * e.nx + lo[2] * e.nx * e.ny) * std::int64_t(es), vt,
                   box, 0, e.nx, e.nx * e.ny, ctx());
    stencil_apply(stencil_, alpha, in, 0.0, out, beta == 0.0 ? nullptr : &out, beta);
  };
  // Overlap for star stencils on blocks at least twice the radius wide: the interior box
  // while the faces travel, then the shell around it.
  bool star = true;
  for (const stencil_point& p : stencil_.points()) star = star && (p.dx != 0) + (p.dy != 0) + (p.dz != 0) <= 1;
  bool wide = true;
  for (int a = 0; a < dims; ++a) wide = wide && n[a] >= 2 * r;
  if (!(star && wide && r > 0)) {
    detail::exchange(*grid_.state_, g, wire);
    if (agreement.failed()) agreement.raise();
    apply_box({0, 0, 0}, {n[0], n[1], n[2]});
    return;
  }
  // Every face at once, without edges or corners: a star never reads them.
  detail::halo_exchange faces(*grid_.state_, g, wire, false);
  for (int a = 0; a < dims; ++a) faces.post(a);
  auto finish_faces = [&] {
    for (int a = 0; a < dims; ++a) faces.finish(a);
  };
  if (agreement.failed()) {
    finish_faces();
    agreement.raise();
  }
  std::array<std::int64_t, 3> inner_lo{0, 0, 0}, inner_hi{n[0], n[1], n[2]};
  for (int a = 0; a < dims; ++a) inner_lo[std::size_t(a)] = r, inner_hi[std::size_t(a)] = n[a] - r;
  apply_box(inner_lo, inner_hi);
  finish_faces();
  // The shell: for each axis, its two slabs of depth r, spanning the axes before it whole
  // and the axes after it inside the slabs already done.
  for (int a = dims - 1; a >= 0; --a)
    for (int side = 0; side < 2; ++side) {
      std::array<std::int64_t, 3> lo{0, 0, 0}, hi{n[0], n[1], n[2]};
      for (int b = a + 1; b < dims; ++b) lo[std::size_t(b)] = r, hi[std::size_t(b)] = n[b] - r;
      lo[std::size_t(a)] = side == 0 ? 0 : n[a] - r;
      hi[std::size_t(a)] = side == 0 ? r : n[a];
      apply_box(lo, hi);
    }
}

std::string distributed_stencil_operator::describe() const {
  const grid_extent& e = grid_.global_extent();
  const auto p = grid_.processes();
  return detail::text("distributed stencil ", stencil_.points().size(), "-point ", e.nx, "x", e.ny,
                      e.dims == 3 ? "x" + std::to_string(e.nz) : std::string(), " over ", p[0], "x", p[1],
                      e.dims == 3 ? "x" + std::to_string(p[2]) : std::string(), " processes, halo ", name_of(halo_));
}

void distributed_stencil_operator::diagonal(double* d) const {
  const grid_extent& e = grid_.local_extent();
  const grid_extent& ge = grid_.global_extent();
  const boundary_conditions& bc = grid_.boundaries();
  const std::int64_t n[3] = {e.nx, e.ny, e.nz}, gn[3] = {ge.nx, ge.ny, ge.nz};
  const auto first = grid_.first();
  std::int64_t at = 0;
  for (std::int64_t k = 0; k < n[2]; ++k)
    for (std::int64_t j = 0; j < n[1]; ++j)
      for (std::int64_t i = 0; i < n[0]; ++i, ++at) {
        const std::int64_t g[3] = {first[0] + i, first[1] + j, first[2] + k};
        double sum = 0;
        for (const stencil_point& p : stencil_.points()) {
          const int off[3] = {p.dx, p.dy, p.dz};
          bool self = true;
          for (int a = 0; a < 3 && self; ++a)
            self = detail::source_index(g[a] + off[a], gn[a], bc.lo[std::size_t(a)], bc.hi[std::size_t(a)]) == g[a];
          if (self) sum += p.coeff;
        }
        d[at] = sum;
      }
}

std::unique_ptr<linear_operator> distributed_stencil_operator::stored_as(dtype values) const {
  return inner_copy(values, inner_halo_);
}

std::unique_ptr<linear_operator> distributed_stencil_operator::inner_copy(dtype, dtype halo) const {
  const dtype h = detail::narrower_halo(inner_halo_, halo);
  return std::make_unique<distributed_stencil_operator>(grid_, stencil_, h, h);
}

const reduction_domain* distributed_stencil_operator::reductions() const { return &grid_.comm().reductions(); }

dtype distributed_stencil_operator::halo_type() const { return grid_.comm().size() > 1 ? halo_ : dtype::f64; }

namespace detail {
namespace {

/// A level's halo exchange for the V-cycle, and the next level's.
class cartesian_halos final : public halo_exchanger {
 public:
  /// Collective: process 0 learns every block's place once, for gathers and scatters.
  explicit cartesian_halos(std::shared_ptr<const cartesian_state> s) : s_(std::move(s)) {
    const std::int64_t mine[6] = {s_->first[0], s_->first[1], s_->first[2], s_->local.nx, s_->local.ny, s_->local.nz};
    places_.assign(std::size_t(6 * s_->comm.size()), 0);
    MPI_Gather(mine, 6, MPI_INT64_T, places_.data(), 6, MPI_INT64_T, 0, s_->cart);
  }

  void exchange(grid& g) const override { detail::exchange(*s_, g, g.type()); }

  std::shared_ptr<const halo_exchanger> coarsened() const override {
    const cartesian_state& f = *s_;
    const int dims = f.global.dims;
    const std::int64_t n[3] = {f.local.nx, f.local.ny, f.local.nz};
    int halves = 1;
    // Coarse point I is fine point 2I+1: a block starting at an even index s with n points
    // holds coarse points s/2 .. s/2 + n/2 - 1. The next block along the axis must start at
    // an even index too (n even, unless the block is the axis's last: n/2 then ends where
    // the coarse grid does), and the coarse block at an even index, for the smoother's
    // colors are the parities of local indices.
    for (int a = 0; a < dims; ++a) {
      const bool last = f.coords[std::size_t(a)] == f.dims[std::size_t(a)] - 1;
      if (f.first[std::size_t(a)] % 4 != 0 || (n[a] % 2 != 0 && !last) || n[a] < 2) halves = 0;
    }
    MPI_Allreduce(MPI_IN_PLACE, &halves, 1, MPI_INT, MPI_MIN, f.cart);
    if (!halves) return nullptr;
    auto c = std::make_shared<cartesian_state>(f.comm);
    MPI_Comm_dup(f.cart, &c->cart);
    c->bc = f.bc;
    c->dims = f.dims, c->coords = f.coords, c->lo = f.lo, c->hi = f.hi;
    for (int a = 0; a < dims; ++a) c->first[std::size_t(a)] = f.first[std::size_t(a)] / 2;
    c->global = dims == 3 ? grid_extent(f.global.nx / 2, f.global.ny / 2, f.global.nz / 2)
                          : grid_extent(f.global.nx / 2, f.global.ny / 2);
    c->local = dims == 3 ? grid_extent(n[0] / 2, n[1] / 2, n[2] / 2) : grid_extent(n[0] / 2, n[1] / 2);
    return std::make_shared<cartesian_halos>(std::move(c));
  }

  grid_extent whole_extent() const override { return s_->global; }
  bool holds_whole() const override { return s_->comm.rank() == 0; }

  void gather(const grid& block, void* whole) const override {
    std::vector<unsigned char> mine = interior_bytes(block);
    std::vector<int> counts, offsets;
    layout(block.type(), counts, offsets);
    std::vector<unsigned char> all(holds_whole() ? std::size_t(offsets.back() + counts.back()) : 0);
    MPI_Gatherv(mine.data(), int(mine.size()), MPI_BYTE, all.data(), counts.data(), offsets.data(), MPI_BYTE, 0,
                s_->cart);
    if (holds_whole()) place_blocks(block.type(), offsets, all.data(), static_cast<unsigned char*>(whole), true);
  }

  void scatter(const void* whole, grid& block) const override {
    std::vector<int> counts, offsets;
    layout(block.type(), counts, offsets);
    std::vector<unsigned char> all(holds_whole() ? std::size_t(offsets.back() + counts.back()) : 0);
    if (holds_whole())
      place_blocks(block.type(), offsets, all.data(), static_cast<unsigned char*>(const_cast<void*>(whole)), false);
    std::vector<unsigned char> mine(std::size_t(block.points()) * size_of(block.type()));
    MPI_Scatterv(all.data(), counts.data(), offsets.data(), MPI_BYTE, mine.data(), int(mine.size()), MPI_BYTE, 0,
                 s_->cart);
    const std::size_t row = std::size_t(block.nx()) * size_of(block.type());
    const unsigned char* in = mine.data();
    for_runs(block, interior_of(block), [&](std::int64_t at, std::int64_t) {
      std::memcpy(static_cast<unsigned char*>(block.origin()) + at * std::int64_t(size_of(block.type())), in, row);
      in += row;
    });
  }

 private:
  static region interior_of(const grid& g) {
    region r;
    r.end = {g.nx(), g.ny(), g.dims() == 3 ? g.nz() : 1};
    return r;
  }

  static std::vector<unsigned char> interior_bytes(const grid& g) {
    const std::size_t row = std::size_t(g.nx()) * size_of(g.type());
    std::vector<unsigned char> out(std::size_t(g.points()) * size_of(g.type()));
    unsigned char* o = out.data();
    for_runs(g, interior_of(g), [&](std::int64_t at, std::int64_t) {
      std::memcpy(o, static_cast<const unsigned char*>(g.origin()) + at * std::int64_t(size_of(g.type())), row);
      o += row;
    });
    return out;
  }

  /// Each block's bytes and their place in the gathered buffer (on the holding process).
  void layout(dtype type, std::vector<int>& counts, std::vector<int>& offsets) const {
    const std::size_t p = std::size_t(s_->comm.size());
    counts.assign(p, 0);
    offsets.assign(p, 0);
    if (!holds_whole()) return;
    const std::int64_t es = std::int64_t(size_of(type));
    for (std::size_t q = 0; q < p; ++q) {
      const std::int64_t* b = &places_[6 * q];
      counts[q] = int(b[3] * b[4] * b[5] * es);
      if (q > 0) offsets[q] = offsets[q - 1] + counts[q - 1];
    }
  }

  /// Copies the blocks from the gathered buffer into the whole dense grid, or back.
  void place_blocks(dtype type, const std::vector<int>& offsets, unsigned char* blocks, unsigned char* whole,
                    bool into_whole) const {
    const std::size_t es = size_of(type);
    const grid_extent& w = s_->global;
    for (std::size_t q = 0; q < offsets.size(); ++q) {
      const std::int64_t* b = &places_[6 * q];
      unsigned char* at = blocks + offsets[q];
      const std::size_t row = std::size_t(b[3]) * es;
      for (std::int64_t k = 0; k < b[5]; ++k)
        for (std::int64_t j = 0; j < b[4]; ++j, at += row) {
          unsigned char* g = whole + (((b[2] + k) * w.ny + b[1] + j) * w.nx + b[0]) * std::int64_t(es);
          into_whole ? std::memcpy(g, at, row) : std::memcpy(at, g, row);
        }
    }
  }

  std::shared_ptr<const cartesian_state> s_;
  std::vector<std::int64_t> places_;  // process 0: each block's first point and extent
};

}  // namespace
}  // namespace detail

std::unique_ptr<multigrid_preconditioner> distributed_multigrid(const distributed_stencil_operator& a,
                                                                multigrid_options options) {
  const cartesian_grid& g = a.decomposition();
  detail::agreed(g.comm().reductions(), [&] {
    for (int ax = 0; ax < g.global_extent().dims; ++ax)
      for (const face_condition& fc : {g.boundaries().lo[std::size_t(ax)], g.boundaries().hi[std::size_t(ax)]})
        if (fc.kind != boundary::dirichlet || fc.value != 0.0)
          MIXPREC_MPI_THROW(unsupported, "distributed_multigrid", "axis ", "xyz"[ax], " has a ", name_of(fc.kind),
                            " face (value ", fc.value, "): multigrid here takes zero Dirichlet boundaries");
    for (int ax = 0; ax < g.global_extent().dims; ++ax)
      if (g.first()[std::size_t(ax)] % 2 != 0)
        MIXPREC_MPI_THROW(unsupported, "distributed_multigrid", "this process's block starts at index ",
                          g.first()[std::size_t(ax)], " of axis ", "xyz"[ax],
                          ": the smoother's colors need every block to start at an even index (a cartesian_grid ",
                          "with align 2, or 2^levels to keep the levels across the processes)");
  });
  return std::make_unique<multigrid_preconditioner>(a.shape(), g.local_extent(),
                                                    std::make_shared<detail::cartesian_halos>(g.state_), options);
}

}  // namespace mixprec
