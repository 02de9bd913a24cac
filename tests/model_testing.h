// Helpers shared by the model tests (test_models_*.cpp): a tiny padded batch, teacher-forced
// stepping through encode/step, and the comparison of two [B, T, C] results on real positions.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <utility>
#include <vector>

#include <string>

#include "models/config.h"
#include "models/seq2seq.h"

namespace attnmt::testing {

// The model settings of `c` as `attnmt train` options (" --emb-dim 32 --heads 2 ..."), all
// but the vocabulary size.
inline std::string as_options(const ModelConfig& c) {
  std::string out;
  for (auto [key, value] : c.to_pairs()) {
    if (key == "vocab_size") continue;
    std::replace(key.begin(), key.end(), '_', '-');
    out += " --" + key + " " + value;
  }
  return out;
}

inline IdMatrix ids(int rows, int cols, std::vector<int> v) {
  IdMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.ids = std::move(v);
  return m;
}

// B 2, S 5, T 4: row 1 is padded on both sides. Ids below 15.
inline Batch tiny_batch() {
  Batch b;
  b.src = ids(2, 5, {5, 6, 7, 8, kEosId, 9, 10, kEosId, kPadId, kPadId});
  b.tgt_in = ids(2, 4, {kBosId, 11, 12, 13, kBosId, 14, kPadId, kPadId});
  b.tgt_out = ids(2, 4, {11, 12, 13, kEosId, 14, kEosId, kPadId, kPadId});
  b.src_len = {5, 3};
  b.tgt_len = {4, 2};
  b.n_tgt_tokens = 6;
  return b;
}

// Teacher-forced incremental decoding of `batch`: log-probs [B, T, V] and attention [B, T, S].
inline std::pair<Tensor, Tensor> run_steps(Seq2Seq& m, const Batch& batch) {
  NoGradGuard ng;
  const int B = batch.size(), T = batch.tgt_in.cols, S = batch.src.cols;
  const int V = m.config().vocab_size;
  auto st = m.encode(batch.src, batch.src_len);
  Tensor logp = Tensor::zeros(Shape{B, T, V}), att = Tensor::zeros(Shape{B, T, S});
  for (int t = 0; t < T; ++t) {
    std::vector<int> tok;
    for (int b = 0; b < B; ++b) tok.push_back(batch.tgt_in.at(b, t));
    Step s = m.step(*st, tok);
    REQUIRE(s.logprobs.shape() == Shape{B, V});
    REQUIRE(s.attention.shape() == Shape{B, S});
    for (int b = 0; b < B; ++b) {
      for (int v = 0; v < V; ++v) logp.at({b, t, v}) = s.logprobs.at({b, v});
      for (int j = 0; j < S; ++j) att.at({b, t, j}) = s.attention.at({b, j});
    }
  }
  return {logp, att};
}

// The largest difference over the real (unpadded) target positions.
inline double max_diff_real(const Tensor& a, const Tensor& b, const Batch& batch) {
  double m = 0;
  const int64_t C = a.dim(2);
  for (int b_ = 0; b_ < batch.size(); ++b_)
    for (int t = 0; t < batch.tgt_len[b_]; ++t)
      for (int64_t c = 0; c < C; ++c)
        m = std::max<double>(m, std::abs(a.at({b_, t, c}) - b.at({b_, t, c})));
  return m;
}

}  // namespace attnmt::testing
