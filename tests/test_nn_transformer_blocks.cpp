// Tests of the Transformer blocks: gradient checks of the fused head ops, of multi-head
// attention with padding and causal masks (fused and dropout paths), of the feed-forward
// block; the sinusoidal table against hand-computed values. The decoding cache:
// tests/test_nn_kv_cache.cpp.
#include <cmath>
#include <functional>

#include "gradcheck.h"
#include "helpers.h"
#include "nn/transformer_blocks.h"
#include "tensor/error.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {
Tensor rnd(const Shape& s, float scale = 1.0f) { return random_tensor(s, test_rng(11), scale); }

// Random (non-zero) biases, so that the checks see them.
void randomise(ParameterStore& store, float scale = 0.3f) {
  for (auto& [path, p] : store.all()) p->value.copy_from(rnd(p->shape(), scale));
}

// Central differences of sum(f() * R) for every element of every parameter in `store`,
// against the gradients backward() leaves there. Returns the number of mismatches.
int param_gradcheck(ParameterStore& store, const std::function<Var()>& f, float eps = 1e-2f) {
  Rng rng(4321);
  Var out = f();
  Tensor R = random_tensor(out->shape(), rng);
  auto loss_of = [&](const Var& o) {
    double s = 0.0;
    for (int64_t i = 0; i < o->value.numel(); ++i) s += double(o->value[i]) * R[i];
    return s;
  };
  store.zero_grad();
  backward(out, R);
  int bad = 0;
  for (auto& [path, p] : store.all()) {
    Tensor analytic = p->grad.empty() ? Tensor::zeros(p->shape()) : p->grad.clone();
    for (int64_t i = 0; i < p->value.numel(); ++i) {
      float saved = p->value[i];
      double plus, minus;
      {
        NoGradGuard ng;
        p->value[i] = saved + eps;
        plus = loss_of(f());
        p->value[i] = saved - eps;
        minus = loss_of(f());
      }
      p->value[i] = saved;
      double numeric = (plus - minus) / (2.0 * eps);
      if (std::abs(numeric - analytic[i]) > 2e-3 + 2e-2 * std::abs(numeric)) {
        if (bad < 5)
          UNSCOPED_INFO(path << "[" << i << "]: analytic " << analytic[i] << " numeric "
                             << numeric);
        ++bad;
      }
    }
  }
  return bad;
}
}  // namespace

TEST_CASE("gradcheck split_heads, merge_heads and scale_add_positions", "[nn][transformer][grad]") {
  gradcheck([](const std::vector<Var>& p) { return split_heads(p[0], 3, 2, 2); }, {rnd({2, 3, 8})});
  gradcheck([](const std::vector<Var>& p) { return merge_heads(p[0]); }, {rnd({2, 2, 3, 4})});
  gradcheck([](const std::vector<Var>& p) { return scale_add_positions(p[0], 2.5f, p[1]); },
            {rnd({2, 3, 4}), rnd({3, 4})});
}

TEST_CASE("split_heads and merge_heads move the right elements", "[nn][transformer]") {
  Tensor x = rnd({2, 3, 12});
  Tensor h = split_heads(constant(x), 4, 2, 3)->value;  // columns [4, 10)
  REQUIRE(h.shape() == Shape{2, 2, 3, 3});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t hd = 0; hd < 2; ++hd)
      for (int64_t t = 0; t < 3; ++t)
        for (int64_t i = 0; i < 3; ++i) CHECK(h.at({b, hd, t, i}) == x.at({b, t, 4 + hd * 3 + i}));
  Tensor m = merge_heads(constant(h))->value;  // back to [2, 3, 6] = columns [4, 10) of x
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 3; ++t)
      for (int64_t c = 0; c < 6; ++c) CHECK(m.at({b, t, c}) == x.at({b, t, 4 + c}));
}

TEST_CASE("sinusoidal table: sin on even, cos on odd columns", "[nn][transformer]") {
  Tensor pe = sinusoidal_table(5, 6);
  for (int64_t i = 0; i < 6; ++i) CHECK(pe.at({0, i}) == Approx(i % 2 ? 1.0 : 0.0));
  CHECK(pe.at({1, 0}) == Approx(std::sin(1.0)));
  CHECK(pe.at({1, 1}) == Approx(std::cos(1.0)));
  CHECK(pe.at({3, 2}) == Approx(std::sin(3.0 * std::pow(10000.0, -2.0 / 6.0))).epsilon(1e-5));
  CHECK(pe.at({4, 5}) == Approx(std::cos(4.0 * std::pow(10000.0, -4.0 / 6.0))).epsilon(1e-5));
}

TEST_CASE("positional encoding scales embeddings by sqrt(D) and refuses long inputs",
          "[nn][transformer]") {
  ParameterStore store;
  Rng rng(3);
  PositionalEncoding pos(Scope(store) / "positions", false, 6, 4, rng);
  CHECK(store.all().empty());  // sinusoidal: nothing to train
  Tensor e = rnd({1, 2, 4});
  Tensor y = pos(constant(e), 3)->value;
  Tensor pe = sinusoidal_table(6, 4);
  for (int64_t t = 0; t < 2; ++t)
    for (int64_t i = 0; i < 4; ++i)
      CHECK(y.at({0, t, i}) == Approx(e.at({0, t, i}) * 2.0f + pe.at({3 + t, i})));
  CHECK_THROWS_AS(pos(constant(e), 5), Error);
  PositionalEncoding learned(Scope(store) / "positions", true, 6, 4, rng);
  REQUIRE(store.has("positions/weight"));
  gradcheck([&](const std::vector<Var>& p) { return learned(p[0], 1); }, {rnd({2, 3, 4})});
}

TEST_CASE("gradcheck multi-head self-attention with padding and causal masks",
          "[nn][transformer][grad]") {
  ParameterStore store;
  Rng rng(5);
  MultiHeadAttention mha(Scope(store) / "self_attention", 8, 2, rng);  // D 8, H 2
  randomise(store);
  REQUIRE(store.has("self_attention/query/weight"));
  REQUIRE(store.has("self_attention/output/bias"));
  std::vector<int> lengths{3, 2};  // B 2, T 3: row 1 has a padded position
  for (bool causal : {false, true}) {
    INFO("causal " << causal);
    gradcheck(
        [&](const std::vector<Var>& p) {
          return mha.self_attention(p[0], lengths, causal, 0.0f, rng, false);
        },
        {rnd({2, 3, 8})});
  }
  // The parameters' gradients (all of them, by finite differences).
  Tensor x = rnd({2, 3, 8});
  CHECK(param_gradcheck(store, [&] {
          return mha.self_attention(constant(x), lengths, true, 0.0f, rng, false);
        }) == 0);
}

TEST_CASE("gradcheck source attention and the dropout path", "[nn][transformer][grad]") {
  ParameterStore store;
  Rng rng(6);
  MultiHeadAttention mha(Scope(store) / "source_attention", 8, 2, rng);
  randomise(store);
  std::vector<int> src_len{4, 2};
  gradcheck(
      [&](const std::vector<Var>& p) {
        return mha.source_attention(p[0], p[1], src_len, 0.0f, rng, false);
      },
      {rnd({2, 3, 8}), rnd({2, 4, 8})});
  // With attention dropout (the fused op's own); a fixed seed per call keeps the mask fixed.
  gradcheck(
      [&](const std::vector<Var>& p) {
        Rng fixed(9);
        return mha.source_attention(p[0], p[1], src_len, 0.3f, fixed, true);
      },
      {rnd({2, 3, 8}), rnd({2, 4, 8})});
}

TEST_CASE("unfused attention without dropout equals the fused op", "[nn][transformer]") {
  Var q = constant(rnd({2, 2, 3, 4})), k = constant(rnd({2, 2, 3, 4})),
      v = constant(rnd({2, 2, 3, 4}));
  std::vector<int> len{3, 2};
  Rng rng(1);
  Tensor p_fused, p_unfused;
  Tensor a = attention(q, k, v, len, true, &p_fused)->value;
  // p = 1e-7: the unfused path with a dropout that (almost surely) keeps everything.
  Tensor b = scaled_attention(q, k, v, len, true, 1e-7f, rng, true, &p_unfused)->value;
  for (int64_t i = 0; i < a.numel(); ++i) CHECK(a[i] == Approx(b[i]).margin(1e-5));
  for (int64_t i = 0; i < p_fused.numel(); ++i)
    CHECK(p_fused[i] == Approx(p_unfused[i]).margin(1e-6));
}

// The fused op's dropout draws the mask the unfused path (taken when log_probs is asked for)
// draws from the same Rng: the same output and the same gradients, the dropped weights' too.
TEST_CASE("fused attention dropout equals the unfused path with the same draws",
          "[nn][transformer][grad]") {
  const std::vector<int> len{5, 3};
  for (bool causal : {false, true}) {
    INFO("causal " << causal);
    const Tensor q0 = rnd({2, 3, 5, 4}), k0 = rnd({2, 3, 5, 4}), v0 = rnd({2, 3, 5, 4});
    const Tensor R = rnd({2, 3, 5, 4});
    Tensor out[2], grads[2][3], probs[2];
    for (int unfused = 0; unfused < 2; ++unfused) {
      Var q = parameter(q0.clone()), k = parameter(k0.clone()), v = parameter(v0.clone());
      Rng rng(11);
      Var log_p;
      Var o = scaled_attention(q, k, v, len, causal, 0.4f, rng, true, &probs[unfused],
                               unfused ? &log_p : nullptr);
      backward(o, R);
      out[unfused] = o->value.clone();
      grads[unfused][0] = q->grad.clone();
      grads[unfused][1] = k->grad.clone();
      grads[unfused][2] = v->grad.clone();
    }
    int dropped = 0;  // the mask did drop some weights: an output differs from no dropout's
    Tensor plain = attention(constant(q0), constant(k0), constant(v0), len, causal)->value;
    for (int64_t i = 0; i < out[0].numel(); ++i) {
      CHECK(out[0][i] == Approx(out[1][i]).margin(1e-5));
      dropped += std::abs(out[0][i] - plain[i]) > 1e-3f;
    }
    CHECK(dropped > 10);
    for (int64_t i = 0; i < probs[0].numel(); ++i)
      CHECK(probs[0][i] == Approx(probs[1][i]).margin(1e-6));
    for (int a = 0; a < 3; ++a)
      for (int64_t i = 0; i < grads[0][a].numel(); ++i)
        CHECK(grads[0][a][i] == Approx(grads[1][a][i]).margin(1e-4));
  }
}

TEST_CASE("gradcheck feed-forward with relu and gelu", "[nn][transformer][grad]") {
  for (Activation act : {Activation::kRelu, Activation::kGelu}) {
    ParameterStore store;
    Rng rng(7);
    FeedForward ffn(Scope(store) / "ffn", 8, 12, act, rng);
    randomise(store);
    REQUIRE(store.has("ffn/inner/weight"));
    REQUIRE(store.has("ffn/outer/bias"));
    INFO(name_of(act));
    gradcheck([&](const std::vector<Var>& p) { return ffn(p[0], 0.0f, rng, false); },
              {rnd({2, 3, 8})});
  }
  ParameterStore store;
  Rng rng(7);
  // A name that is not an activation is refused where names are read (options, model files).
  CHECK_THROWS_WITH(parse_choice<Activation>("swish", "--activation"),
                    "--activation: unknown activation 'swish': choose relu or gelu");
  CHECK_NOTHROW(FeedForward(Scope(store) / "ffn", 8, 12, Activation::kGelu, rng));
}
