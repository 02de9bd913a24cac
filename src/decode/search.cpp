// Beam and greedy search (see search.h for the rules). Hypotheses are not copied as they grow:
// every step records, per decoder row, the row it continues, the token it was fed and its
// attention row; a hypothesis is rebuilt by walking those records back once it finishes.
#include "decode/search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "autograd/var.h"
#include "tensor/error.h"
#include "text/vocab.h"

namespace attnmt {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Masked log-probabilities are -1e30 (kernels.h) or -inf; NaN is never usable either.
bool usable(float x) { return x > -1e29f; }

// What one decoding step fed the model, row by row.
struct StepRecord {
  std::vector<int> parent;       // [N_t] the row of step t-1 this row continues (-1 at t = 0)
  std::vector<int> token;        // [N_t] the token fed at this step (BOS at t = 0)
  std::vector<float> attention;  // [N_t, S] the attention row this step produced
};

class History {
 public:
  History(std::span<const int> src_len, int S) : src_len_(src_len), S_(S) {}

  // Copies the attention: a model may reuse its output buffers between steps.
  void record(std::vector<int> parent, std::vector<int> token, const Tensor& attention) {
    const int64_t N = static_cast<int64_t>(token.size());
    ATTNMT_CHECK(attention.rank() == 2 && attention.dim(0) == N && attention.dim(1) == S_,
                 "search: the model's attention is {}, expected [{}, {}]", attention.shape().str(),
                 N, S_);
    StepRecord r{std::move(parent), std::move(token),
                 std::vector<float>(attention.data(), attention.data() + N * S_)};
    steps_.push_back(std::move(r));
  }

  // The hypothesis that ends with EOS chosen at step t from `row`, of sentence b.
  Hypothesis finish(int t, int row, int b, float logprob, float alpha) const {
    Hypothesis h;
    h.logprob = logprob;
    h.score = logprob / std::pow(static_cast<float>(t + 1), alpha);
    const int Sb = src_len_[b];
    h.attention.resize(t + 1);
    h.tokens.resize(t);
    for (int k = t; k >= 0; --k) {
      const StepRecord& rec = steps_[k];
      const float* a = rec.attention.data() + static_cast<size_t>(row) * S_;
      h.attention[k].assign(a, a + Sb);
      if (k > 0) h.tokens[k - 1] = rec.token[row];
      row = rec.parent[row];
    }
    return h;
  }

  // The stand-in when a sentence found nothing usable (a model that gave only NaN or masked
  // scores): no tokens, score -inf, uniform attention on the EOS row.
  Hypothesis empty(int b) const {
    Hypothesis h;
    h.score = h.logprob = kNegInf;
    h.attention.assign(1, std::vector<float>(src_len_[b], 1.0f / src_len_[b]));
    return h;
  }

 private:
  std::span<const int> src_len_;
  int S_;
  std::vector<StepRecord> steps_;
};

// The k best tokens of one row into ids/vals (best first; ties: the smaller id). PAD, BOS and
// unusable scores are skipped. Returns how many were found (<= k). One pass over V, in blocks
// of 16: once k tokens are held, a block whose maximum (a loop the compiler vectorises) does
// not beat the k-th best is skipped whole, which is nearly every block of a 8k-word row.
int top_k_row(const float* logp, int V, int k, int* ids, float* vals) {
  constexpr int kBlock = 16;
  int n = 0;
  for (int v0 = 0; v0 < V; v0 += kBlock) {
    const int v1 = std::min(V, v0 + kBlock);
    if (n == k) {
      float m = kNegInf;
      for (int v = v0; v < v1; ++v) m = logp[v] > m ? logp[v] : m;  // NaN never wins
      if (!(m > vals[k - 1])) continue;
    }
    for (int v = v0; v < v1; ++v) {
      if (v == kPadId || v == kBosId) continue;
      const float x = logp[v];
      if (!usable(x) || (n == k && x <= vals[n - 1])) continue;
      int i = n < k ? n++ : k - 1;
      for (; i > 0 && vals[i - 1] < x; --i) vals[i] = vals[i - 1], ids[i] = ids[i - 1];
      vals[i] = x;
      ids[i] = v;
    }
  }
  return n;
}

void check_inputs(const IdMatrix& src, std::span<const int> src_len) {
  ATTNMT_CHECK(static_cast<int>(src_len.size()) == src.rows,
               "search: {} source lengths for {} sentences", src_len.size(), src.rows);
  for (int len : src_len)
    ATTNMT_CHECK(len >= 1 && len <= src.cols, "search: source length {} outside [1, {}]", len,
                 src.cols);
}

void check_step(const Step& out, int64_t N, int V_min) {
  ATTNMT_CHECK(out.logprobs.rank() == 2 && out.logprobs.dim(0) == N &&
                   out.logprobs.dim(1) > std::max(kEosId, V_min),
               "search: the model's log-probabilities are {} for {} rows",
               out.logprobs.shape().str(), N);
}

bool is_identity(const std::vector<int>& rows, int64_t n) {
  if (static_cast<int64_t>(rows.size()) != n) return false;
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i] != static_cast<int>(i)) return false;
  return true;
}

// Adds h to the finished list `done` (kept sorted best first, ties: the earlier), keeping at
// most k: when full, h replaces the worst one if it is better.
void keep_best(std::vector<Hypothesis>& done, int k, Hypothesis h) {
  if (static_cast<int>(done.size()) >= k && !(h.score > done.back().score)) return;
  auto at = std::upper_bound(done.begin(), done.end(), h.score,
                             [](float s, const Hypothesis& x) { return s > x.score; });
  done.insert(at, std::move(h));
  if (static_cast<int>(done.size()) > k) done.pop_back();
}

// A sentence still searching: its rows are [first, first + n) of the decoder state.
struct Live {
  int sentence, first, n, max_len;
};

// Results sorted best first, cut to n_best; a sentence with none gets History::empty().
std::vector<std::vector<Hypothesis>> finalize(std::vector<std::vector<Hypothesis>> finished,
                                              const History& history, int n_best) {
  for (size_t b = 0; b < finished.size(); ++b) {
    auto& f = finished[b];
    if (f.empty()) f.push_back(history.empty(static_cast<int>(b)));
    std::stable_sort(f.begin(), f.end(),
                     [](const Hypothesis& x, const Hypothesis& y) { return x.score > y.score; });
    if (static_cast<int>(f.size()) > n_best) f.resize(n_best);
  }
  return finished;
}

}  // namespace

int max_output_length(int src_len, const SearchOptions& o) {
  const double by_ratio =
      std::floor(o.max_length_ratio * std::max(0, src_len - 1)) + o.max_length_extra;
  return std::max(1, static_cast<int>(std::min<double>(o.max_length, by_ratio)));
}

std::vector<std::vector<Hypothesis>> greedy_search(Seq2Seq& model, const IdMatrix& src,
                                                   std::span<const int> src_len,
                                                   const SearchOptions& options) {
  check_inputs(src, src_len);
  NoGradGuard no_grad;
  const int B = src.rows;
  History history(src_len, src.cols);
  std::vector<std::vector<Hypothesis>> finished(B);
  if (B == 0) return finished;

  // One row per sentence; row i of the state belongs to sentence alive[i].
  const float alpha = options.length_penalty;
  auto state = model.encode(src, src_len);
  std::vector<int> alive(B), last(B, kBosId), parent(B, -1);
  std::iota(alive.begin(), alive.end(), 0);
  std::vector<float> logprob(B, 0.0f);
  for (int t = 0; !alive.empty(); ++t) {
    const int N = static_cast<int>(alive.size());
    // Step: log-probs [N, V] and attention [N, S] for the token each row was fed.
    Step out = model.step(*state, last);
    check_step(out, N, 0);
    const int V = static_cast<int>(out.logprobs.dim(1));
    history.record(parent, last, out.attention);
    // Choose: the two best tokens of the row, or only EOS once the sentence reached its
    // length limit.
    std::vector<int> rows, next_alive, next_last;
    std::vector<float> next_logprob;
    for (int r = 0; r < N; ++r) {
      const int b = alive[r];
      const float* lp = out.logprobs.data() + static_cast<int64_t>(r) * V;
      int ids[2] = {kEosId, kEosId};
      float vals[2] = {usable(lp[kEosId]) ? lp[kEosId] : -1e29f, kNegInf};
      const bool forced = t >= max_output_length(src_len[b], options);
      const int n = forced ? 1 : top_k_row(lp, V, 2, ids, vals);
      // Finish: an argmax EOS ends a hypothesis (kept if it beats the one already found).
      auto& done = finished[b];
      if (n > 0 && ids[0] == kEosId)
        keep_best(done, 1, history.finish(t, r, b, logprob[r] + vals[0], alpha));
      // Continue with the best other token, unless it cannot beat what this sentence found
      // (the rule of beam_search with K = 1, so that both give the same result).
      const int j = n > 0 && ids[0] != kEosId ? 0 : 1;
      if (j >= n || ids[j] == kEosId) continue;
      const float next = logprob[r] + vals[j];
      if (!done.empty() && next / std::pow(static_cast<float>(t + 2), alpha) <= done[0].score)
        continue;
      rows.push_back(r);
      next_alive.push_back(b);
      next_last.push_back(ids[j]);
      next_logprob.push_back(next);
    }
    if (next_alive.empty()) break;
    // Shrink: drop finished sentences' rows from the state (skipped when none finished).
    if (!is_identity(rows, N)) model.select(*state, rows);
    alive = std::move(next_alive);
    last = std::move(next_last);
    logprob = std::move(next_logprob);
    parent = std::move(rows);
  }
  return finalize(std::move(finished), history, 1);
}

std::vector<std::vector<Hypothesis>> beam_search(Seq2Seq& model, const IdMatrix& src,
                                                 std::span<const int> src_len,
                                                 const SearchOptions& options) {
  if (options.greedy) return greedy_search(model, src, src_len, options);
  check_inputs(src, src_len);
  ATTNMT_CHECK(options.beam >= 1 && options.n_best >= 1,
               "search: beam ({}) and n-best ({}) must be at least 1", options.beam,
               options.n_best);
  NoGradGuard no_grad;
  const int B = src.rows;
  const int K = std::max(options.beam, options.n_best);
  const int k_row = K + 1;  // per row: K best non-EOS tokens are always among the K+1 best
  const float alpha = options.length_penalty;
  History history(src_len, src.cols);
  std::vector<std::vector<Hypothesis>> finished(B);
  if (B == 0) return finished;

  // Start with one row per sentence (all K beams would be identical); rows widen to K after
  // the first step.
  auto state = model.encode(src, src_len);
  std::vector<Live> live;
  for (int b = 0; b < B; ++b) live.push_back({b, b, 1, max_output_length(src_len[b], options)});
  std::vector<int> last(B, kBosId), parent(B, -1);
  std::vector<float> row_score(B, 0.0f);  // [N] log-probability of each row's prefix

  struct Candidate {
    float score;
    int row, token;
  };
  std::vector<int> top_ids;
  std::vector<float> top_vals;
  std::vector<int> top_n;
  std::vector<Candidate> cands;
  for (int t = 0; !live.empty(); ++t) {
    const int N = static_cast<int>(last.size());
    // Step: log-probs [N, V] and attention [N, S] for every live row.
    Step out = model.step(*state, last);
    check_step(out, N, 0);
    const int V = static_cast<int>(out.logprobs.dim(1));
    history.record(parent, last, out.attention);

    // Prune per row: the K+1 best tokens of each row (PAD/BOS never), or only EOS for rows
    // whose sentence reached its length limit.
    top_ids.assign(static_cast<size_t>(N) * k_row, 0);
    top_vals.assign(static_cast<size_t>(N) * k_row, kNegInf);
    top_n.assign(N, 0);
    for (const Live& s : live) {
      const bool forced = t >= s.max_len;
      for (int r = s.first; r < s.first + s.n; ++r) {
        const float* lp = out.logprobs.data() + static_cast<int64_t>(r) * V;
        if (forced) {
          top_ids[r * k_row] = kEosId;
          top_vals[r * k_row] = usable(lp[kEosId]) ? lp[kEosId] : -1e29f;  // always ends
          top_n[r] = 1;
        }
      }
    }
#pragma omp parallel for schedule(static) if (static_cast <int64_t>(N) * V > 200000)
    for (int r = 0; r < N; ++r) {
      if (top_n[r] > 0) continue;  // forced EOS, filled above
      const float* lp = out.logprobs.data() + static_cast<int64_t>(r) * V;
      top_n[r] = top_k_row(lp, V, k_row, &top_ids[r * k_row], &top_vals[r * k_row]);
    }

    std::vector<int> rows, next_last;
    std::vector<float> next_score;
    std::vector<Live> next_live;
    for (const Live& s : live) {
      // Merge: the sentence's K x (K+1) candidates ranked by prefix + token log-probability
      // (ties: the earlier row, then the better token of that row).
      cands.clear();
      for (int r = s.first; r < s.first + s.n; ++r)
        for (int j = 0; j < top_n[r]; ++j)
          cands.push_back({row_score[r] + top_vals[r * k_row + j], r, top_ids[r * k_row + j]});
      std::stable_sort(cands.begin(), cands.end(),
                       [](const Candidate& x, const Candidate& y) { return x.score > y.score; });
      // Finish and continue: EOS ranked within the best K ends a hypothesis; the best K
      // non-EOS candidates go on.
      auto& done = finished[s.sentence];
      const int first = static_cast<int>(rows.size());
      int rank = 0, n_next = 0;
      for (const Candidate& c : cands) {
        if (rank >= K && n_next >= K) break;
        if (c.token == kEosId) {
          if (rank < K) keep_best(done, K, history.finish(t, c.row, s.sentence, c.score, alpha));
        } else if (n_next < K) {
          rows.push_back(c.row);
          next_last.push_back(c.token);
          next_score.push_back(c.score);
          ++n_next;
        }
        ++rank;
      }
      // Retire: a sentence is done when nothing is left to extend, or when it holds K finished
      // hypotheses and its best live one, scored as if it ended now, is no better than the
      // n_best-th finished. (The reference stops at K finished; going on only while a live
      // hypothesis looks better can only improve the result: a peaked model that ranks EOS
      // high at every step would otherwise fill the K slots with short hypotheses.)
      const bool full = static_cast<int>(done.size()) >= K;
      const bool hopeless = full && n_next > 0 &&
                            next_score[first] / std::pow(static_cast<float>(t + 2), alpha) <=
                                done[std::min<size_t>(options.n_best, done.size()) - 1].score;
      if (n_next == 0 || hopeless) {
        rows.resize(first), next_last.resize(first), next_score.resize(first);
        continue;
      }
      next_live.push_back({s.sentence, first, n_next, s.max_len});
    }
    if (next_live.empty()) break;
    // Reorder: new row i continues old row rows[i] (duplicated, dropped or kept in place).
    if (!is_identity(rows, N)) model.select(*state, rows);
    live = std::move(next_live);
    last = std::move(next_last);
    row_score = std::move(next_score);
    parent = std::move(rows);
  }
  return finalize(std::move(finished), history, options.n_best);
}

}  // namespace attnmt
