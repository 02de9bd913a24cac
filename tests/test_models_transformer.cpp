// Tests of the Transformer model: parameter paths, log-probabilities and alignments,
// causality, incremental decoding against the teacher-forced pass (several configurations),
// select, save/load, a finite-difference check of the loss, dropout, a memorisation run.
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <fstream>

#include "autograd/ops.h"
#include "helpers.h"
#include "model_testing.h"
#include "models/model_io.h"
#include "models/transformer/transformer.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/threads.h"
#include "train/validation.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

ModelConfig tiny_config() {
  ModelConfig c;
  c.arch = Arch::kTransformer;
  c.vocab_size = 23;
  c.emb_dim = 8;
  c.heads = 2;
  c.ffn_dim = 16;
  c.enc_layers = 2;
  c.dec_layers = 2;
  c.dropout = 0.1f;
  c.max_positions = 32;
  return c;
}

}  // namespace

TEST_CASE("transformer parameters live at the documented paths", "[models][transformer]") {
  ModelConfig c = tiny_config();
  Transformer m(c, 1);
  const ParameterStore& p = m.params();
  for (const char* path :
       {"embedding/weight", "encoder/layer_0/self_attention/query/weight",
        "encoder/layer_1/self_attention/output/bias", "encoder/layer_1/ffn/inner/weight",
        "encoder/layer_0/ffn_norm/gamma", "decoder/layer_1/self_attention/key/weight",
        "decoder/layer_1/source_attention/value/bias", "decoder/layer_0/source_attention_norm/beta",
        "decoder/layer_1/ffn/outer/weight", "encoder/final_norm/gamma", "decoder/final_norm/beta"})
    CHECK(p.has(path));
  CHECK_FALSE(p.has("output/weight"));  // tied to the embedding
  CHECK_FALSE(p.has("positions/weight"));
  CHECK(p.get("decoder/layer_1/ffn/inner/weight")->shape() == Shape{16, 8});

  c.pre_norm = false;
  c.tie_embeddings = false;
  c.learned_positions = true;
  c.output_bias = true;
  Transformer m2(c, 1);
  CHECK_FALSE(m2.params().has("encoder/final_norm/gamma"));
  CHECK(m2.params().has("output/weight"));
  CHECK(m2.params().has("output/bias"));
  CHECK(m2.params().get("positions/weight")->shape() == Shape{32, 8});
  // The factory builds it too.
  CHECK(dynamic_cast<Transformer*>(make_model(tiny_config(), 3).get()) != nullptr);
}

TEST_CASE("transformer forward gives log-probabilities and alignments", "[models][transformer]") {
  Transformer m(tiny_config(), 2);
  Batch batch = tiny_batch();
  Tensor att;
  Var logp = m.forward(batch, Mode::kEval, &att);
  REQUIRE(logp->shape() == Shape{2, 4, 23});
  REQUIRE(att.shape() == Shape{2, 4, 5});
  for (int64_t r = 0; r < 8; ++r) {
    double z = 0;
    for (int64_t v = 0; v < 23; ++v) z += std::exp(double(logp->value[r * 23 + v]));
    CHECK(z == Approx(1.0).epsilon(1e-5));
  }
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 4; ++t) {
      double row = 0;
      for (int s = 0; s < 5; ++s) {
        if (s >= batch.src_len[b]) CHECK(att.at({b, t, s}) == 0.0f);
        row += att.at({b, t, s});
      }
      CHECK(row == Approx(1.0).epsilon(1e-5));
    }
  // The heads' own alignments average to the default one; they differ from each other.
  ModelConfig c = tiny_config();
  Tensor per_head[2];
  for (int h = 0; h < 2; ++h) {
    c.align_head = h;
    Transformer mh(c, 2);  // same seed: same parameters
    mh.forward(batch, Mode::kEval, &per_head[h]);
  }
  double differ = 0;
  for (int64_t i = 0; i < att.numel(); ++i) {
    CHECK(att[i] == Approx(0.5 * (per_head[0][i] + per_head[1][i])).margin(1e-6));
    differ = std::max<double>(differ, std::abs(per_head[0][i] - per_head[1][i]));
  }
  CHECK(differ > 1e-4);
}

TEST_CASE("transformer log-probs at t do not depend on target inputs after t",
          "[models][transformer]") {
  Transformer m(tiny_config(), 4);
  Batch batch = tiny_batch();
  Tensor base = m.forward(batch, Mode::kEval)->value;
  for (int t = 0; t < 3; ++t) {
    Batch changed = batch;
    for (int u = t + 1; u < 4; ++u) changed.tgt_in.at(0, u) = 15 + u;
    Tensor out = m.forward(changed, Mode::kEval)->value;
    double same = 0, later = 0;
    for (int u = 0; u < 4; ++u)
      for (int v = 0; v < 23; ++v) {
        double d = std::abs(out.at({0, u, v}) - base.at({0, u, v}));
        if (u <= t)
          same = std::max(same, d);
        else
          later = std::max(later, d);
      }
    INFO("t " << t);
    CHECK(same < 1e-6);
    CHECK(later > 1e-4);  // the change is visible where it is allowed to be
  }
}

TEST_CASE("transformer loss gradients match finite differences", "[models][transformer][grad]") {
  ModelConfig c = tiny_config();
  c.enc_layers = 1;
  c.tie_embeddings = true;
  c.learned_positions = true;
  Transformer m(c, 7);
  Batch batch = tiny_batch();
  auto loss = [&] {
    Var logp = m.forward(batch, Mode::kEval);  // eval: no dropout, deterministic
    return cross_entropy(reshape(logp, Shape{8, 23}), batch.tgt_out.ids, 0.1f, kPadId);
  };
  m.params().zero_grad();
  backward(loss());
  const float eps = 1e-2f;
  int checked = 0, bad = 0;
  for (const char* path :
       {"embedding/weight", "positions/weight", "encoder/layer_0/self_attention/query/weight",
        "encoder/layer_0/ffn/inner/bias", "decoder/layer_1/self_attention/value/weight",
        "decoder/layer_0/source_attention/key/weight",
        "decoder/layer_1/source_attention/query/bias", "decoder/layer_1/ffn_norm/gamma",
        "decoder/final_norm/beta"}) {
    Var p = m.params().get(path);
    Tensor analytic = p->grad.clone();
    // A spread of elements: every 7th, up to 12 per tensor.
    for (int64_t i = 0, n = 0; i < p->value.numel() && n < 12; i += 7, ++n) {
      float saved = p->value[i];
      double plus, minus;
      {
        NoGradGuard ng;
        p->value[i] = saved + eps;
        plus = loss()->value[0];
        p->value[i] = saved - eps;
        minus = loss()->value[0];
      }
      p->value[i] = saved;
      double numeric = (plus - minus) / (2 * eps);
      ++checked;
      if (std::abs(numeric - analytic[i]) > 3e-3 + 3e-2 * std::abs(numeric)) {
        UNSCOPED_INFO(path << "[" << i << "] analytic " << analytic[i] << " numeric " << numeric);
        ++bad;
      }
    }
  }
  CHECK(checked > 50);
  CHECK(bad == 0);
}

TEST_CASE("transformer dropout acts in training only, long inputs are refused",
          "[models][transformer]") {
  Transformer m(tiny_config(), 8);
  Batch batch = tiny_batch();
  Tensor e1 = m.forward(batch, Mode::kEval)->value.clone();
  Tensor e2 = m.forward(batch, Mode::kEval)->value;
  Tensor t1 = m.forward(batch, Mode::kTrain)->value;
  double eval_diff = 0, train_diff = 0;
  for (int64_t i = 0; i < e1.numel(); ++i) {
    eval_diff = std::max<double>(eval_diff, std::abs(e1[i] - e2[i]));
    train_diff = std::max<double>(train_diff, std::abs(e1[i] - t1[i]));
  }
  CHECK(eval_diff == 0.0);
  CHECK(train_diff > 1e-4);

  ModelConfig c = tiny_config();
  c.max_positions = 4;  // the source has 5 positions
  Transformer short_model(c, 8);
  CHECK_THROWS_AS(short_model.forward(batch, Mode::kEval), Error);
}

TEST_CASE("bench: transformer-small forward+backward, B 128, S = T = 20", "[.][bench]") {
  ModelConfig c;
  c.arch = Arch::kTransformer;
  c.vocab_size = 8000;
  c.emb_dim = 256;
  c.heads = 4;
  c.ffn_dim = 1024;
  c.enc_layers = 3;
  c.dec_layers = 3;
  c.dropout = 0.1f;
  Transformer m(c, 1);
  Rng rng(3);
  const int B = 128, L = 20;
  Batch batch;
  batch.src = ids(B, L, std::vector<int>(B * L));
  batch.tgt_in = batch.src;
  batch.tgt_out = batch.src;
  for (auto* mat : {&batch.src, &batch.tgt_in, &batch.tgt_out})
    for (int& id : mat->ids) id = 4 + static_cast<int>(rng.uniform(0.0f, 7995.0f));
  batch.src_len.assign(B, L);
  batch.tgt_len.assign(B, L);
  // 2 threads as the target figure; 1 thread too, since Eigen's threaded GEMM can be slower.
  for (int threads : {2, 1}) {
    set_threads(threads);
    double best = 1e30, best_fwd = 1e30;
    auto since = [](auto t0) {
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
          .count();
    };
    for (int rep = 0; rep < 5; ++rep) {
      auto t0 = std::chrono::steady_clock::now();
      m.params().zero_grad();
      Var logp = m.forward(batch, Mode::kTrain);
      Var loss = cross_entropy(reshape(logp, Shape{B * L, 8000}), batch.tgt_out.ids, 0.1f, kPadId);
      best_fwd = std::min(best_fwd, since(t0));
      backward(loss);
      best = std::min(best, since(t0));
    }
    // The matrix products: forward ~36.7 GFLOP (encoder layers 4D^2 + 2DF per token, decoder
    // layers 6D^2 + 2DF, output DV), backward twice that. The raw GEMM rate of the output
    // projection's shape tells how much of the time is the model's own overhead.
    const double flops = 3.0 * 2 * B * L * (4.0 * 256 * 256 + 2.0 * 256 * 1024) +
                         3.0 * 2 * B * L * (6.0 * 256 * 256 + 2.0 * 256 * 1024) +
                         2.0 * B * L * 256 * 8000;
    Tensor a = Tensor::full(Shape{B * L, 256}, 0.5f), w = Tensor::full(Shape{8000, 256}, 0.25f);
    Tensor out = Tensor::uninitialized(Shape{B * L, 8000});
    double gemm_ms = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
      auto t0 = std::chrono::steady_clock::now();
      matmul(a, false, w, true, out);
      gemm_ms = std::min(
          gemm_ms,
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    WARN(threads << " threads: forward+backward " << best << " ms per batch (forward " << best_fwd
                 << " ms), " << (B * L) / (best / 1000.0) << " target tokens/s, "
                 << 3 * flops / best / 1e6 << " GFLOP/s; a raw [2560,256]x[256,8000] GEMM runs at "
                 << 2.0 * B * L * 256 * 8000 / gemm_ms / 1e6 << " GFLOP/s");
    CHECK(best > 0);
  }
}
