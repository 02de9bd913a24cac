// A deterministic stand-in for a real model, for the decode tests: its next-token
// probabilities are a fixed function of (source sentence, tokens so far), and it keeps the
// history of every row itself, so a search whose select() bookkeeping were wrong would get
// scores that rescoring the hypothesis (MockSeq2Seq::sequence_logprob) does not reproduce.
#pragma once

#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <vector>

#include "models/seq2seq.h"
#include "tensor/error.h"
#include "text/vocab.h"

namespace attnmt::testing {

// Unnormalised scores [V] of the next token given the source (ids + EOS) and the history
// (BOS first). The mock log-softmaxes them.
using ScoreFn =
    std::function<std::vector<float>(const std::vector<int>& src, const std::vector<int>& history)>;

class MockSeq2Seq : public Seq2Seq {
 public:
  MockSeq2Seq(int vocab_size, ScoreFn fn)
      : Seq2Seq(config_for(vocab_size), 1, nullptr), fn_(std::move(fn)) {}

  struct State : DecoderState {
    std::vector<std::vector<int>> src;      // [N] the row's source, ids + EOS (no padding)
    std::vector<std::vector<int>> history;  // [N] tokens fed so far, BOS first
    int S = 0;                              // padded source length
    int rows() const override { return static_cast<int>(src.size()); }
  };

  Var logits(const Batch&, Mode, Tensor*, Var*) override { fail("the mock has no teacher-forced pass"); }

  std::unique_ptr<DecoderState> encode(const IdMatrix& src, std::span<const int> len) override {
    auto st = std::make_unique<State>();
    st->S = src.cols;
    for (int b = 0; b < src.rows; ++b)
      st->src.emplace_back(src.ids.begin() + b * src.cols, src.ids.begin() + b * src.cols + len[b]);
    st->history.assign(src.rows, {});
    ++encodes;
    return st;
  }

  Step step(DecoderState& state, std::span<const int> last) override {
    auto& st = static_cast<State&>(state);
    const int N = st.rows(), V = config_.vocab_size;
    ATTNMT_CHECK(static_cast<int>(last.size()) == N, "mock: {} tokens for {} rows", last.size(), N);
    Step out{Tensor(Shape{N, V}), Tensor(Shape{N, st.S})};
    for (int r = 0; r < N; ++r) {
      st.history[r].push_back(last[r]);
      std::vector<float> lp = log_softmax(fn_(st.src[r], st.history[r]));
      std::copy(lp.begin(), lp.end(), out.logprobs.data() + r * V);
      // Attention: a softmax over the real source positions, peaked at (step mod len).
      const int len = static_cast<int>(st.src[r].size());
      const int t = static_cast<int>(st.history[r].size()) - 1;
      float* a = out.attention.data() + r * st.S;
      float sum = 0;
      for (int i = 0; i < len; ++i) sum += a[i] = std::exp(i == t % len ? 2.0f : 0.1f * i);
      for (int i = 0; i < len; ++i) a[i] /= sum;
    }
    for (int seen = max_rows; N > seen && !max_rows.compare_exchange_weak(seen, N);) {
    }
    ++steps;
    return out;
  }

  void select(DecoderState& state, std::span<const int> rows) override {
    auto& st = static_cast<State&>(state);
    State next;
    for (int r : rows) {
      ATTNMT_CHECK(r >= 0 && r < st.rows(), "mock: select row {} of {}", r, st.rows());
      next.src.push_back(st.src[r]);
      next.history.push_back(st.history[r]);
    }
    st.src = std::move(next.src);
    st.history = std::move(next.history);
  }

  // The log-probability of tokens + EOS for this source, scored afresh.
  double sequence_logprob(const std::vector<int>& src_with_eos, const std::vector<int>& tokens) {
    std::vector<int> history{kBosId}, full = tokens;
    full.push_back(kEosId);
    double total = 0;
    for (int tok : full) {
      total += log_softmax(fn_(src_with_eos, history))[tok];
      history.push_back(tok);
    }
    return total;
  }

  // Counted atomically: translation workers may call the one mock from several threads.
  std::atomic<int> steps = 0, encodes = 0, max_rows = 0;

 private:
  static ModelConfig config_for(int V) {
    ModelConfig c;
    c.vocab_size = V;
    return c;
  }
  static std::vector<float> log_softmax(std::vector<float> x) {
    float m = *std::max_element(x.begin(), x.end()), s = 0;
    for (float v : x) s += std::exp(v - m);
    const float lse = m + std::log(s);
    for (float& v : x) v -= lse;
    return x;
  }
  ScoreFn fn_;
};

// A fixed pseudo-random score in [-2, 2) for (source, history, token).
inline float hash_score(const std::vector<int>& src, const std::vector<int>& history, int v) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint64_t x) { h = (h ^ x) * 1099511628211ull; };
  for (int s : src) mix(static_cast<uint64_t>(s) + 1);
  mix(977);
  for (int t : history) mix(static_cast<uint64_t>(t) + 7);
  mix(static_cast<uint64_t>(v) + 13);
  h ^= h >> 29;
  return static_cast<float>(h % 4000) / 1000.0f - 2.0f;
}

// Random-looking scores; EOS gets eos_bias added, PAD and BOS a large bonus (a search must
// still never produce them).
inline ScoreFn random_scores(int V, float eos_bias) {
  return [V, eos_bias](const std::vector<int>& src, const std::vector<int>& history) {
    std::vector<float> s(V);
    for (int v = 0; v < V; ++v) s[v] = hash_score(src, history, v);
    s[kEosId] += eos_bias;
    s[kPadId] += 10.0f;
    s[kBosId] += 10.0f;
    return s;
  };
}

// Copies the source: at step t the token src[t] is very likely (EOS after the last one).
inline ScoreFn copy_scores(int V) {
  return [V](const std::vector<int>& src, const std::vector<int>& history) {
    std::vector<float> s(V, 0.0f);
    const size_t t = history.size() - 1;
    s[t < src.size() ? src[t] : kEosId] = 8.0f;
    return s;
  };
}

// Source ids + EOS for each sentence, padded, with the lengths.
inline IdMatrix pad_sources(const std::vector<std::vector<int>>& src, std::vector<int>& len) {
  IdMatrix m;
  m.rows = static_cast<int>(src.size());
  for (const auto& s : src) m.cols = std::max(m.cols, static_cast<int>(s.size()) + 1);
  m.ids.assign(static_cast<size_t>(m.rows) * m.cols, kPadId);
  len.clear();
  for (int r = 0; r < m.rows; ++r) {
    std::copy(src[r].begin(), src[r].end(), m.ids.begin() + r * m.cols);
    m.at(r, static_cast<int>(src[r].size())) = kEosId;
    len.push_back(static_cast<int>(src[r].size()) + 1);
  }
  return m;
}

}  // namespace attnmt::testing
