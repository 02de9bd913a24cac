// Alignments that probe the model (decode/forced.h). Saliency (forced_saliency): on every
// example of every registered architecture, each row is the length of the gradient of that
// target piece's log-probability with respect to each source embedding, as finite differences
// of the model's own forward pass give it; and the parameters are left as they were (they take
// gradients again afterwards). Occlusion (forced_occlusion): each row is how much that piece's
// log-probability falls, in the model's own forward pass, when one source piece is <unk>.
#include <cmath>

#include "decode/forced.h"
#include "helpers.h"
#include "model_testing.h"
#include "models/registry.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

// Row 0 of tiny_batch() alone: source 5 6 7 8 </s>, target 11 12 13 </s>.
Batch first_pair() {
  Batch b;
  b.src = ids(1, 5, {5, 6, 7, 8, kEosId});
  b.tgt_in = ids(1, 4, {kBosId, 11, 12, 13});
  b.tgt_out = ids(1, 4, {11, 12, 13, kEosId});
  b.src_len = {5};
  b.tgt_len = {4};
  b.index = {0};
  b.n_tgt_tokens = 4;
  return b;
}

// log p(tgt_out[j]) for every j [T], with `delta` added to the source embeddings [1, S, D].
std::vector<double> target_logprobs(Seq2Seq& m, const Batch& b, const Tensor& delta) {
  NoGradGuard ng;
  m.set_source_hook([&](const Var& lookup) {
    Tensor v = lookup->value.clone();
    v.arr() += delta.arr();
    return constant(v);
  });
  const Tensor logp = m.forward(b, Mode::kEval)->value;  // [1, T, V]
  m.set_source_hook({});
  const int64_t T = logp.dim(1), V = logp.dim(2);
  std::vector<double> out(T);
  for (int64_t j = 0; j < T; ++j) out[j] = logp[j * V + b.tgt_out.at(0, static_cast<int>(j))];
  return out;
}

}  // namespace

TEST_CASE("saliency rows are gradient lengths, as finite differences give them",
          "[decode][align][saliency]") {
  const Batch b = first_pair();
  for (const Architecture& arch : architectures())
    for (const ModelExample& ex : arch.examples(23)) {
      INFO(arch.name << ": " << ex.name);
      auto m = make_model(ex.config, 7);
      const std::vector<Matrix> sal = forced_saliency(*m, {{5, 6, 7, 8}}, {{11, 12, 13}});
      REQUIRE(sal.size() == 1);
      REQUIRE(sal[0].size() == 4);  // 3 pieces + </s>
      // The embedding width, from one pass through the hook.
      int64_t D = 0;
      m->set_source_hook([&](const Var& e) { return D = e->value.dim(2), e; });
      {
        NoGradGuard ng;
        m->forward(b, Mode::kEval);
      }
      m->set_source_hook({});
      REQUIRE(D > 0);
      // Central differences for every embedding value: d log p(y_j) / d e[s][d].
      const float h = 1e-2f;
      std::vector<std::vector<double>> norm2(4, std::vector<double>(5, 0.0));
      for (int64_t s = 0; s < 5; ++s)
        for (int64_t d = 0; d < D; ++d) {
          Tensor delta = Tensor::zeros(Shape{1, 5, D});
          delta[s * D + d] = h;
          const std::vector<double> up = target_logprobs(*m, b, delta);
          delta[s * D + d] = -h;
          const std::vector<double> down = target_logprobs(*m, b, delta);
          for (int j = 0; j < 4; ++j) {
            const double g = (up[j] - down[j]) / (2 * h);
            norm2[j][s] += g * g;
          }
        }
      double spread = 0;
      for (int j = 0; j < 4; ++j) {
        REQUIRE(sal[0][j].size() == 5);
        double total = 0;
        for (double v : norm2[j]) total += std::sqrt(v);
        for (int s = 0; s < 5; ++s) {
          const double expected = std::sqrt(norm2[j][s]) / total;
          INFO("row " << j << ", source " << s);
          CHECK(std::abs(sal[0][j][s] - expected) < 5e-3);
          spread = std::max(spread, std::abs(expected - 0.2));
        }
      }
      CHECK(spread > 0.02);  // rows far enough from uniform for the comparison to mean something
      for (const auto& [path, p] : m->params().all()) {
        INFO(path);
        CHECK(p->requires_grad);
      }
    }
}

TEST_CASE("occlusion rows are the log-probability each hidden source piece costs",
          "[decode][align][occlusion]") {
  const Batch b = first_pair();
  for (const Architecture& arch : architectures())
    for (const ModelExample& ex : arch.examples(23)) {
      INFO(arch.name << ": " << ex.name);
      auto m = make_model(ex.config, 7);
      const std::vector<Matrix> occ = forced_occlusion(*m, {{5, 6, 7, 8}}, {{11, 12, 13}});
      REQUIRE(occ.size() == 1);
      REQUIRE(occ[0].size() == 4);  // 3 pieces + </s>
      const Tensor none = Tensor::zeros(Shape{1, 5, m->config().emb_dim});
      const std::vector<double> base = target_logprobs(*m, b, none);
      // fall[j][s]: what hiding source piece s (<unk> in its place) costs target piece j.
      std::vector<std::vector<double>> fall(4, std::vector<double>(5, 0.0));
      for (int s = 0; s < 5; ++s) {
        Batch hidden_batch = b;
        hidden_batch.src.at(0, s) = kUnkId;
        const std::vector<double> hidden = target_logprobs(*m, hidden_batch, none);
        for (int j = 0; j < 4; ++j) fall[j][s] = std::max(0.0, base[j] - hidden[j]);
      }
      int informative = 0;  // rows with a fall somewhere, so that the comparison means something
      for (int j = 0; j < 4; ++j) {
        REQUIRE(occ[0][j].size() == 5);
        double total = 0;
        for (double v : fall[j]) total += v;
        informative += total > 1e-3;
        for (int s = 0; s < 5; ++s) {
          const double expected = total > 0 ? fall[j][s] / total : 0.2;
          INFO("row " << j << ", source " << s);
          CHECK(std::abs(occ[0][j][s] - expected) < 2e-3);
        }
      }
      CHECK(informative >= 3);
    }
}

TEST_CASE("saliency and occlusion give an empty matrix for an empty side and chunk long pairs",
          "[decode][align][saliency][occlusion]") {
  const Architecture& arch = architectures().front();
  auto m = make_model(arch.examples(23).front().config, 3);
  // At most 2 target positions a pass (one copy at a time): the same rows as one pass, up to
  // the rounding of products of another height.
  const std::vector<std::vector<int>> src = {{5, 6, 7}, {}, {8, 9}};
  const std::vector<std::vector<int>> tgt = {{11, 12, 13, 14}, {11}, {12, 13}};
  using Probe = std::vector<Matrix> (*)(Seq2Seq&, const std::vector<std::vector<int>>&,
                                        const std::vector<std::vector<int>>&, int);
  for (const Probe probe : {Probe(&forced_saliency), Probe(&forced_occlusion)}) {
    const std::vector<Matrix> whole = probe(*m, src, tgt, 4096);
    const std::vector<Matrix> chunked = probe(*m, src, tgt, 2);
    REQUIRE(whole.size() == 3);
    CHECK(whole[1].empty());
    REQUIRE(whole[0].size() == 5);
    REQUIRE(whole[2].size() == 3);
    for (size_t i : {0u, 2u})
      for (size_t j = 0; j < whole[i].size(); ++j)
        for (size_t s = 0; s < whole[i][j].size(); ++s)
          CHECK(std::abs(whole[i][j][s] - chunked[i][j][s]) < 1e-4);
  }
}
