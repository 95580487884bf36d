// 06_mixed_precision_training: an MLP trained on mixprec alone, four ways, from the same
// initial weights on the same batches:
//   f32           everything in f32;
//   bf16          bf16 weights and activations, f32 master weights and gradients;
//   f16 scaled    f16 weights and activations, f32 master weights, dynamic loss scaling;
//   f16 unscaled  the same without loss scaling.
// The task, made up here from a fixed seed: inputs are Gaussian vectors, and each one's label
// is the class a fixed random "teacher" network scores highest. The student is
// in -> hidden -> hidden -> classes with GELU, trained by AdamW on the mean cross-entropy over
// batches of many rows. A step is: forward (GEMM with a bias epilogue, GELU), the fused
// softmax cross-entropy of the scaled loss, backward (linear_backward, activate_backward),
// gradient unscale-and-check, AdamW on the master weights writing the model copies.
//
// The loss is the mean over a global batch of 2^22 rows (the 4M tokens of an LLM's step),
// of which each step computes `batch`, as a data-parallel worker does: every gradient is
// divided by the global count. AdamW is invariant to that factor, so f32 learns as with a
// per-batch mean; but the output gradients, p / 2^22 for the wrong classes, fall below f16's
// smallest subnormal (2^-24) as soon as the model is a little confident. That is the
// underflow loss scaling exists for: the scale (2^16 to start) lifts them back into range.
//
// Printed per run: the loss curve (every tenth step, side by side, and all of it as CSV in
// training_curves.csv), the final loss (the mean of the last tenth of the steps), held-out
// accuracy, the time of a step and its speed-up over f32, the steps the scaler skipped, and
// the fraction of the last layer's output-gradient entries flushed to zero.
//
// Its own checks: bf16 and scaled f16 reach the f32 run's final loss within 5 % (the
// rounding of weights and activations perturbs the curve a little, not where it goes), and
// the unscaled f16 run fails: it ends at least 10 % above the f32 run's loss, with more of
// its gradient flushed to zero than the scaled run.
//
// Usage: 06_mixed_precision_training [steps batch hidden]   (default 300 1024 1024)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <mixprec/mixprec.hpp>

using namespace mixprec;

namespace {

struct config {
  std::int64_t steps = 300, batch = 1024, in = 256, hidden = 1024, classes = 32, eval = 4096;
  double global_tokens = 1 << 22;  // the loss is the mean over a global batch this large
};

/// Row-major rows x cols view of a vector.
template <class T>
view matrix(std::vector<T>& v, std::int64_t rows, std::int64_t cols) {
  return make_view(v.data(), {rows, cols}, {cols, 1});
}

/// The made-up task: Gaussian inputs labelled by a fixed random two-layer teacher.
struct task {
  config c;
  std::vector<float> teacher1, teacher2;
  explicit task(const config& cfg) : c(cfg) {
    std::mt19937 gen(11);
    std::normal_distribution<float> n(0.0f, 1.0f);
    teacher1.resize(std::size_t(c.in * 256));
    teacher2.resize(std::size_t(256 * c.classes));
    for (auto& w : teacher1) w = n(gen) / std::sqrt(float(c.in));
    for (auto& w : teacher2) w = n(gen) / std::sqrt(256.0f);
  }
  /// rows inputs and their labels, from the stream `seed`.
  void sample(std::int64_t rows, unsigned seed, std::vector<float>& x, std::vector<std::int32_t>& labels) const {
    std::mt19937 gen(seed);
    std::normal_distribution<float> n(0.0f, 1.0f);
    x.resize(std::size_t(rows * c.in));
    for (auto& v : x) v = n(gen);
    std::vector<float> h(std::size_t(rows * 256)), logits(std::size_t(rows * c.classes));
    gemm(trans::no, trans::no, 1.0, matrix(x, rows, c.in), matrix(const_cast<std::vector<float>&>(teacher1), c.in, 256),
         0.0, matrix(h, rows, 256));
    for (auto& v : h) v = std::tanh(v);
    gemm(trans::no, trans::no, 1.0, matrix(h, rows, 256),
         matrix(const_cast<std::vector<float>&>(teacher2), 256, c.classes), 0.0, matrix(logits, rows, c.classes));
    labels.resize(std::size_t(rows));
    for (std::int64_t i = 0; i < rows; ++i) {
      const float* r = logits.data() + i * c.classes;
      labels[std::size_t(i)] = std::int32_t(std::max_element(r, r + c.classes) - r);
    }
  }
};

/// The student's f32 weights (W as out x in, as nn.Linear keeps them) and biases.
struct master_weights {
  std::vector<float> w[3], b[3];
  std::int64_t out[3], in[3];
};

master_weights initial_weights(const config& c) {
  master_weights m;
  const std::int64_t dims[4] = {c.in, c.hidden, c.hidden, c.classes};
  std::mt19937 gen(3);
  for (int l = 0; l < 3; ++l) {
    m.in[l] = dims[l];
    m.out[l] = dims[l + 1];
    std::uniform_real_distribution<float> u(-1.0f / std::sqrt(float(dims[l])), 1.0f / std::sqrt(float(dims[l])));
    m.w[l].resize(std::size_t(m.out[l] * m.in[l]));
    m.b[l].resize(std::size_t(m.out[l]));
    for (auto& v : m.w[l]) v = u(gen);
    for (auto& v : m.b[l]) v = u(gen);
  }
  return m;
}

enum class mode { f32, bf16, f16_scaled, f16_unscaled };
const char* name_of_mode(mode m) {
  switch (m) {
    case mode::f32:
      return "f32";
    case mode::bf16:
      return "bf16";
    case mode::f16_scaled:
      return "f16 scaled";
    default:
      return "f16 unscaled";
  }
}

struct run_result {
  std::vector<double> loss;
  double final_loss = 0, accuracy = 0, step_ms = 0, zero_fraction = 0;
  std::int64_t skipped = 0;
  double last_scale = 1;
};

/// One training run with weights and activations stored as T.
template <class T>
run_result train(const config& c, const task& data, const master_weights& init, mode md) {
  master_weights m = init;  // master weights, updated in place
  std::vector<T> w[3];
  std::vector<float> dw[3], db[3];
  for (int l = 0; l < 3; ++l) {
    w[l].resize(m.w[l].size());
    dw[l].resize(m.w[l].size());
    db[l].resize(m.b[l].size());
    convert(make_view(m.w[l].data(), std::int64_t(m.w[l].size())), make_view(w[l].data(), std::int64_t(w[l].size())));
  }
  std::vector<parameter> params;
  std::vector<view> grads;
  for (int l = 0; l < 3; ++l) {
    const std::int64_t nw = std::int64_t(m.w[l].size()), nb = std::int64_t(m.b[l].size());
    params.push_back({make_view(m.w[l].data(), nw), make_view(w[l].data(), nw), make_view(dw[l].data(), nw)});
    // Biases stay f32 (the GEMM epilogue adds them in f32): the master copy is the model.
    params.push_back({make_view(m.b[l].data(), nb), view(), make_view(db[l].data(), nb)});
    grads.push_back(make_view(dw[l].data(), nw));
    grads.push_back(make_view(db[l].data(), nb));
  }
  adamw opt(adamw_options{2e-3, 0.9, 0.999, 1e-8, 0.01, false, 0});
  loss_scaler scaler;
  const bool scaled = md == mode::f16_scaled;

  const std::int64_t B = c.batch, H = c.hidden;
  std::vector<T> x(std::size_t(B * c.in)), a1(std::size_t(B * H)), h1(a1.size()), a2(a1.size()), h2(a1.size());
  std::vector<T> logits(std::size_t(B * c.classes)), dh(a1.size()), da(a1.size());
  std::vector<float> xf;
  std::vector<std::int32_t> labels;

  auto forward = [&](std::int64_t rows) {
    gemm_options o;
    o.epilogue.bias = make_view(m.b[0].data(), H);
    gemm(trans::no, trans::yes, 1.0, matrix(x, rows, c.in), matrix(w[0], H, c.in), 0.0, matrix(a1, rows, H), o);
    activate(activation::gelu_erf, matrix(a1, rows, H), matrix(h1, rows, H));
    o.epilogue.bias = make_view(m.b[1].data(), H);
    gemm(trans::no, trans::yes, 1.0, matrix(h1, rows, H), matrix(w[1], H, H), 0.0, matrix(a2, rows, H), o);
    activate(activation::gelu_erf, matrix(a2, rows, H), matrix(h2, rows, H));
    o.epilogue.bias = make_view(m.b[2].data(), c.classes);
    gemm(trans::no, trans::yes, 1.0, matrix(h2, rows, H), matrix(w[2], c.classes, H), 0.0,
         matrix(logits, rows, c.classes), o);
  };

  run_result r;
  std::int64_t zeros = 0, counted = 0;
  double seconds = 0;
  for (std::int64_t step = 0; step < c.steps; ++step) {
    data.sample(B, unsigned(1000 + step), xf, labels);
    const auto t0 = std::chrono::steady_clock::now();
    convert(make_view(xf.data(), B * c.in), make_view(x.data(), B * c.in));
    forward(B);
    cross_entropy_options ce;
    ce.grad_scale = (scaled ? scaler.scale() : 1.0) * double(B) / c.global_tokens;
    // The gradient of the (scaled) mean loss overwrites the logits.
    r.loss.push_back(
        cross_entropy(matrix(logits, B, c.classes), make_view(labels.data(), B), matrix(logits, B, c.classes), ce));
    for (int l = 0; l < 3; ++l) {
      fill(make_view(dw[l].data(), std::int64_t(dw[l].size())), 0.0);
      fill(make_view(db[l].data(), std::int64_t(db[l].size())), 0.0);
    }
    linear_backward(matrix(h2, B, H), matrix(w[2], c.classes, H), matrix(logits, B, c.classes), matrix(dh, B, H),
                    matrix(dw[2], c.classes, H), make_view(db[2].data(), c.classes));
    activate_backward(activation::gelu_erf, matrix(a2, B, H), matrix(dh, B, H), matrix(da, B, H));
    linear_backward(matrix(h1, B, H), matrix(w[1], H, H), matrix(da, B, H), matrix(dh, B, H), matrix(dw[1], H, H),
                    make_view(db[1].data(), H));
    activate_backward(activation::gelu_erf, matrix(a1, B, H), matrix(dh, B, H), matrix(da, B, H));
    linear_backward(matrix(x, B, c.in), matrix(w[0], H, c.in), matrix(da, B, H), view(), matrix(dw[0], H, c.in),
                    make_view(db[0].data(), H));
    if (scaled) {
      const bool finite = scaler.unscale(grads);
      opt.step(params, 1.0, !finite);
      scaler.update();
    } else {
      opt.step(params);
    }
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // How much of the output gradient was flushed to zero (only the wrong classes' entries,
    // which are p / B > 0 in exact arithmetic).
    for (std::int64_t i = 0; i < B; ++i)
      for (std::int64_t j = 0; j < c.classes; ++j)
        if (j != labels[std::size_t(i)]) {
          zeros += float(logits[std::size_t(i * c.classes + j)]) == 0.0f;
          ++counted;
        }
  }
  r.step_ms = 1e3 * seconds / double(c.steps);
  r.zero_fraction = double(zeros) / double(std::max<std::int64_t>(counted, 1));
  r.skipped = scaler.skipped_steps();
  r.last_scale = scaler.scale();
  const std::int64_t tail = std::max<std::int64_t>(1, c.steps / 10);
  for (std::int64_t s = c.steps - tail; s < c.steps; ++s) r.final_loss += r.loss[std::size_t(s)] / double(tail);
  // Held-out accuracy, a batch at a time.
  std::int64_t right = 0;
  for (std::int64_t start = 0; start < c.eval; start += B) {
    const std::int64_t rows = std::min(B, c.eval - start);
    data.sample(rows, unsigned(900000 + start), xf, labels);
    convert(make_view(xf.data(), rows * c.in), make_view(x.data(), rows * c.in));
    forward(rows);
    for (std::int64_t i = 0; i < rows; ++i) {
      const T* row = logits.data() + i * c.classes;
      std::int64_t best = 0;
      for (std::int64_t j = 1; j < c.classes; ++j)
        if (float(row[j]) > float(row[best])) best = j;
      right += best == labels[std::size_t(i)];
    }
  }
  r.accuracy = double(right) / double(c.eval);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  config c;
  if (argc > 1) {
    if (argc != 4) {
      std::fprintf(stderr, "usage: %s [steps batch hidden]\n", argv[0]);
      return 2;
    }
    c.steps = std::atoll(argv[1]);
    c.batch = std::atoll(argv[2]);
    c.hidden = std::atoll(argv[3]);
  }
  if (c.steps < 10 || c.batch < 1 || c.hidden < 16) {
    std::fprintf(stderr, "need steps >= 10, batch >= 1, hidden >= 16\n");
    return 2;
  }
  try {
    std::printf("MLP %lld -> %lld -> %lld -> %lld (GELU), AdamW, batches of %lld rows, %lld steps; %s\n",
                (long long)c.in, (long long)c.hidden, (long long)c.hidden, (long long)c.classes, (long long)c.batch,
                (long long)c.steps, context::cpu().describe().c_str());
    const task data(c);
    const master_weights init = initial_weights(c);
    const mode modes[] = {mode::f32, mode::bf16, mode::f16_scaled, mode::f16_unscaled};
    run_result r[4];
    r[0] = train<float>(c, data, init, mode::f32);
    r[1] = train<bfloat16>(c, data, init, mode::bf16);
    r[2] = train<half>(c, data, init, mode::f16_scaled);
    r[3] = train<half>(c, data, init, mode::f16_unscaled);

    std::printf("\nloss     %12s %12s %12s %12s\n", "f32", "bf16", "f16 scaled", "f16 unscaled");
    for (std::int64_t s = 0; s < c.steps; s += std::max<std::int64_t>(1, c.steps / 10))
      std::printf("step %-4lld %11.4f %12.4f %12.4f %12.4f\n", (long long)s, r[0].loss[std::size_t(s)],
                  r[1].loss[std::size_t(s)], r[2].loss[std::size_t(s)], r[3].loss[std::size_t(s)]);
    std::ofstream csv("training_curves.csv");
    csv << "step,f32,bf16,f16_scaled,f16_unscaled\n";
    for (std::int64_t s = 0; s < c.steps; ++s)
      csv << s << ',' << r[0].loss[std::size_t(s)] << ',' << r[1].loss[std::size_t(s)] << ','
          << r[2].loss[std::size_t(s)] << ',' << r[3].loss[std::size_t(s)] << '\n';

    std::printf("\n%-13s %11s %13s %10s %8s %11s %8s %9s\n", "run", "final loss", "vs f32 loss", "accuracy", "step ms",
                "speed-up", "skipped", "grad = 0");
    for (int i = 0; i < 4; ++i)
      std::printf("%-13s %11.4f %12.2f%% %9.1f%% %8.1f %10.2fx %8lld %8.2f%%\n", name_of_mode(modes[i]),
                  r[i].final_loss, 100.0 * (r[i].final_loss / r[0].final_loss - 1), 100.0 * r[i].accuracy, r[i].step_ms,
                  r[0].step_ms / r[i].step_ms, (long long)r[i].skipped, 100.0 * r[i].zero_fraction);
    std::printf("(loss scale at the end of the scaled f16 run: 2^%.0f; curves in training_curves.csv)\n",
                std::log2(r[2].last_scale));

    bool ok = true;
    for (int i : {1, 2})
      if (!(std::fabs(r[i].final_loss / r[0].final_loss - 1) <= 0.05)) {
        std::printf("FAIL: the %s run ends %.1f %% away from the f32 run's loss (limit 5 %%)\n", name_of_mode(modes[i]),
                    100.0 * std::fabs(r[i].final_loss / r[0].final_loss - 1));
        ok = false;
      }
    if (!(r[3].zero_fraction > r[2].zero_fraction && r[3].final_loss > 1.1 * r[0].final_loss)) {
      std::printf("FAIL: the unscaled f16 run did not fail as its underflow predicts (loss %.4f, %.2f %% zeros)\n",
                  r[3].final_loss, 100.0 * r[3].zero_fraction);
      ok = false;
    }
    std::printf("%s\n", ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
  } catch (const error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
