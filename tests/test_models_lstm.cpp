// The LSTM encoder-decoder: gradient checks of the LSTM layers and of each attention score
// function, tied embeddings, and the whole model's loss against finite differences.
#include "gradcheck.h"
#include "helpers.h"
#include "models/lstm/lstm_attention.h"
#include "nn/attention.h"
#include "nn/lstm.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

// A 2-sentence batch: sources of 3 and 2 pieces (+EOS), targets of 2 and 1 (+EOS).
Batch lstm_tiny_batch() {
  Batch b;
  b.src = IdMatrix{2, 4, {5, 6, 7, 3, 8, 9, 3, 0}};
  b.tgt_in = IdMatrix{2, 3, {2, 10, 11, 2, 12, 0}};
  b.tgt_out = IdMatrix{2, 3, {10, 11, 3, 12, 3, 0}};
  b.src_len = {4, 3};
  b.tgt_len = {3, 2};
  b.index = {0, 1};
  b.n_tgt_tokens = 5;
  return b;
}

ModelConfig tiny_lstm_config(AttentionType attention) {
  ModelConfig c;
  c.arch = Arch::kLstm;
  c.vocab_size = 13;
  c.emb_dim = 4;
  c.enc_hidden = 3;
  c.dec_hidden = attention == AttentionType::kDot ? 6 : 5;  // dot needs decoder width = 2 x encoder width
  c.dropout = 0.0f;
  c.attention = attention;
  return c;
}

Var model_loss(Seq2Seq& model, const Batch& batch) {
  Var logp = model.forward(batch, Mode::kEval);
  return cross_entropy(reshape(logp, Shape{6, 13}), batch.tgt_out.ids, 0.1f, kPadId);
}
}  // namespace

TEST_CASE("gradcheck the stacked bidirectional LstmEncoder with padding", "[lstm][grad]") {
  ParameterStore store;
  Rng rng(5);
  LstmEncoder enc(Scope(store, "enc"), 4, 3, 2, true, rng);
  Var x = parameter(random_tensor(Shape{2, 3, 4}, test_rng(11)));
  std::vector<int> lengths{3, 1};
  Tensor R = random_tensor(Shape{2, 3 * 6 + 12}, test_rng(11));
  auto loss = [&] {
    EncoderOutput out = enc(x, lengths, 0.0f, rng, false);
    Var all = concat({reshape(out.memory, Shape{2, 18}), out.final_h, out.final_c}, 1);
    return sum(mul(all, constant(R)));
  };
  gradcheck_parameter(loss, x);
  for (const auto& [name, v] : store.all()) {
    INFO(name);
    gradcheck_parameter(loss, v);
  }
}

TEST_CASE("gradcheck each attention score function with a padding mask", "[lstm][grad]") {
  Tensor mask = Tensor::from(Shape{2, 3}, {1, 1, 1, 1, 1, 0});
  for (AttentionType type : {AttentionType::kDot, AttentionType::kGeneral, AttentionType::kAdditive}) {
    INFO(name_of(type));
    int64_t M = 4, Q = type == AttentionType::kDot ? 4 : 5;
    ParameterStore store;
    Rng rng(3);
    SoftAttention att(Scope(store, "att"), type, M, Q, rng);
    Var q = parameter(random_tensor(Shape{2, Q}, test_rng(11)));
    Var mem = parameter(random_tensor(Shape{2, 3, M}, test_rng(11)));
    Tensor R = random_tensor(Shape{2, 3 + M}, test_rng(11));
    auto loss = [&] {
      Var w = att.weights(q, att.keys(mem), mask);
      return sum(mul(concat({w, SoftAttention::context(w, mem)}, 1), constant(R)));
    };
    gradcheck_parameter(loss, q);
    gradcheck_parameter(loss, mem);
    for (const auto& [name, v] : store.all()) {
      INFO(name);
      gradcheck_parameter(loss, v);
    }
    NoGradGuard ng;
    Var w = att.weights(q, att.keys(mem), mask);
    CHECK(w->value.at({1, 2}) == 0.0f);  // the padded position gets no weight
    CHECK(w->value.at({0, 0}) + w->value.at({0, 1}) + w->value.at({0, 2}) == Approx(1.0f));
  }
}

TEST_CASE("gradcheck the whole LSTM model's loss for every attention type", "[lstm][grad]") {
  for (AttentionType type : {AttentionType::kDot, AttentionType::kGeneral, AttentionType::kAdditive}) {
    INFO(name_of(type));
    LstmAttention model(tiny_lstm_config(type), 7);
    Batch batch = lstm_tiny_batch();
    for (const auto& [name, v] : model.params().all()) {
      INFO(name);
      gradcheck_parameter([&] { return model_loss(model, batch); }, v, 8);
    }
  }
}

TEST_CASE("tied embeddings are one tensor that receives gradient from both uses", "[lstm]") {
  ModelConfig c = tiny_lstm_config(AttentionType::kGeneral);
  LstmAttention tied(c, 7);
  CHECK_FALSE(tied.params().has("output/weight"));
  c.tie_embeddings = false;
  LstmAttention untied(c, 7);
  CHECK(untied.params().has("output/weight"));
  CHECK(untied.params().n_scalars() == tied.params().n_scalars() + 13 * 4);
  // Row 1 (unk) never appears in the batch: in the tied model it still gets gradient, through
  // the output projection; in the untied model the embedding row stays at zero gradient.
  Batch batch = lstm_tiny_batch();
  backward(model_loss(tied, batch));
  backward(model_loss(untied, batch));
  const Tensor& g_tied = tied.params().get("embedding/weight")->grad;
  const Tensor& g_untied = untied.params().get("embedding/weight")->grad;
  float tied_row = 0, untied_row = 0;
  for (int d = 0; d < 4; ++d) {
    tied_row += std::abs(g_tied.at({1, d}));
    untied_row += std::abs(g_untied.at({1, d}));
  }
  CHECK(tied_row > 0.0f);
  CHECK(untied_row == 0.0f);
}

