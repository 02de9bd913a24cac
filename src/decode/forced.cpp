// Forced alignment (see forced.h): batches of given pairs through forward(), weights cut to
// each pair's real lengths.
#include "decode/forced.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "autograd/ops.h"
#include "autograd/var.h"
#include "tensor/error.h"
#include "tensor/kernels.h"
#include "tensor/threads.h"
#include "text/batch.h"
#include "text/vocab.h"

namespace attnmt {

namespace {

// How for_each_batch runs the batches: one after the other on all the threads (what needs
// gradients or touches the model), or side by side on workers of one thread each, without
// gradients (run_on_workers in tensor/threads.h; `run` must then only read the model).
enum class Batches { kInTurn, kSideBySide };

// Calls run(batch, group) for length-sorted batches of the non-empty pairs; group holds each
// batch row's pair index (into src/tgt).
template <typename F>
void for_each_batch(const std::vector<std::vector<int>>& src,
                    const std::vector<std::vector<int>>& tgt, int batch_size, Batches how,
                    F&& run) {
  ATTNMT_CHECK(src.size() == tgt.size(), "forced alignment: {} sources but {} targets",
               src.size(), tgt.size());
  // The pairs as a corpus, so that make_batch pads them exactly as training does.
  ParallelCorpus corpus;
  std::vector<int64_t> order;
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i].empty() || tgt[i].empty()) continue;
    order.push_back(static_cast<int64_t>(corpus.src.size()));
    corpus.src.push_back(src[i]);
    corpus.tgt.push_back(tgt[i]);
    corpus.line_no.push_back(static_cast<int64_t>(i));  // where the result goes
  }
  // Similar lengths together: less padding computed for nothing. Longest first: the last
  // batches, the shortest, keep the workers busy to the end.
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return corpus.tgt[a].size() + corpus.src[a].size() >
           corpus.tgt[b].size() + corpus.src[b].size();
  });
  const size_t step = static_cast<size_t>(std::max(1, batch_size));
  const auto batches = static_cast<int64_t>((order.size() + step - 1) / step);
  auto job = [&](int64_t i) {
    const size_t begin = static_cast<size_t>(i) * step;
    const size_t end = std::min(order.size(), begin + step);
    std::vector<int64_t> group(order.begin() + begin, order.begin() + end);
    const Batch batch = make_batch(corpus, group);
    std::vector<int64_t> pair(group.size());
    for (size_t b = 0; b < group.size(); ++b) pair[b] = corpus.line_no[group[b]];
    run(batch, pair);
  };
  if (how == Batches::kInTurn) {
    for (int64_t i = 0; i < batches; ++i) job(i);
    return;
  }
  run_on_workers(batches, get_threads(), [&](int64_t i) {
    NoGradGuard no_grad;  // this worker's own setting
    job(i);
  });
}

// Row b of probs [B, H, R, C] (or [B, R, C] as one head), head h, cut to rows x cols.
Matrix cut(const Tensor& probs, int64_t b, int64_t h, int rows, int cols) {
  const bool heads = probs.rank() == 4;
  const int64_t H = heads ? probs.dim(1) : 1, R = probs.dim(heads ? 2 : 1),
                C = probs.dim(heads ? 3 : 2);
  ATTNMT_CHECK(h < H && rows <= R && cols <= C,
               "forced alignment: attention {} has no head {} of {} x {}", probs.shape().str(), h,
               rows, cols);
  Matrix m(rows);
  for (int r = 0; r < rows; ++r) {
    const float* row = probs.data() + ((b * H + h) * R + r) * C;
    m[r].assign(row, row + cols);
  }
  return m;
}

// Every layer's maps of row b, each head cut to rows x cols.
std::vector<std::vector<Matrix>> cut_layers(const std::vector<Tensor>& layers, int64_t b,
                                            int rows, int cols) {
  std::vector<std::vector<Matrix>> out;
  for (const Tensor& probs : layers) {
    auto& heads = out.emplace_back();
    for (int64_t h = 0; h < probs.dim(1); ++h) heads.push_back(cut(probs, b, h, rows, cols));
  }
  return out;
}

// Parameters take no gradient while it lives (a gradient with respect to the inputs only
// skips every weight-gradient product), and get back their flags after.
class FrozenParameters {
 public:
  explicit FrozenParameters(ParameterStore& store) : store_(store) {
    for (const auto& [path, p] : store_.all()) {
      was_.push_back(p->requires_grad);
      p->requires_grad = false;
    }
  }
  ~FrozenParameters() {
    size_t k = 0;
    for (const auto& [path, p] : store_.all()) p->requires_grad = was_[k++];
  }
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  ParameterStore& store_;
  std::vector<char> was_;
};

// Sets the model's source hook (Seq2Seq::set_source_hook) while it lives.
class SourceHook {
 public:
  SourceHook(Seq2Seq& model, std::function<Var(const Var&)> hook) : model_(model) {
    model_.set_source_hook(std::move(hook));
  }
  ~SourceHook() { model_.set_source_hook({}); }
  SourceHook(const SourceHook&) = delete;
  SourceHook& operator=(const SourceHook&) = delete;

 private:
  Seq2Seq& model_;
};

// Each row of m [T][S] divided by its sum, as attention's rows; a row of zeros becomes uniform.
void normalise_rows(Matrix& m) {
  for (auto& row : m) {
    float total = 0;
    for (float w : row) total += w;
    for (float& w : row) w = total > 0 ? w / total : 1.0f / static_cast<float>(row.size());
  }
}

// `rows` copies of row b of `batch`, cut to its first T target positions (the decoder is causal:
// later positions change none of these), every one of them scored.
Batch copies_of(const Batch& batch, int b, int rows, int T) {
  const int S = batch.src.cols;
  Batch c;
  c.src = {rows, S, std::vector<int>(static_cast<size_t>(rows) * S)};
  c.tgt_in = {rows, T, std::vector<int>(static_cast<size_t>(rows) * T)};
  c.tgt_out = {rows, T, std::vector<int>(static_cast<size_t>(rows) * T)};
  for (int r = 0; r < rows; ++r) {
    for (int s = 0; s < S; ++s) c.src.at(r, s) = batch.src.at(b, s);
    for (int t = 0; t < T; ++t) {
      c.tgt_in.at(r, t) = batch.tgt_in.at(b, t);
      c.tgt_out.at(r, t) = batch.tgt_out.at(b, t);
    }
    c.src_len.push_back(batch.src_len[b]);
    c.tgt_len.push_back(std::min(T, batch.tgt_len[b]));
    c.index.push_back(batch.index[b]);
  }
  c.n_tgt_tokens = static_cast<int64_t>(rows) * c.tgt_len.front();
  return c;
}

// The copies of row b of `batch` that score target pieces [first, last): copy k keeps only
// piece first + k to score (the others are padding to the loss), so that one backward pass gives
// each copy the gradient of its own piece's log-probability.
Batch one_piece_copies(const Batch& batch, int b, int first, int last) {
  Batch c = copies_of(batch, b, last - first, last);
  for (int r = 0; r < c.size(); ++r)
    for (int t = 0; t < last; ++t)
      if (t != first + r) c.tgt_out.at(r, t) = kPadId;
  c.n_tgt_tokens = c.size();
  return c;
}

// Rows first, first + 1, ... of sal [T][S]: the length of d loss / d e of each copy (grad
// [R, S', D], S' >= S padded) at each real source piece.
void gradient_norms(const Tensor& grad, Matrix& sal, int first) {
  const int64_t R = grad.dim(0), cols = grad.dim(1), D = grad.dim(2);
  for (int64_t r = 0; r < R; ++r) {
    std::vector<float>& row = sal[first + r];
    for (size_t s = 0; s < row.size(); ++s) {
      const float* g = grad.data() + (r * cols + static_cast<int64_t>(s)) * D;
      double n2 = 0;
      for (int64_t d = 0; d < D; ++d) n2 += static_cast<double>(g[d]) * g[d];
      row[s] = static_cast<float>(std::sqrt(n2));
    }
  }
}

// log p(tgt_out[r][t]) of each row r and each of the first t_real positions, from logits
// [R, T, V]: [R][t_real].
std::vector<std::vector<float>> target_log_probs(const Tensor& logits, const IdMatrix& out,
                                                 int t_real) {
  const int64_t R = logits.dim(0), T = logits.dim(1), V = logits.dim(2);
  Tensor logp(logits.shape());
  kernels::log_softmax_rows(logits.data(), logp.data(), R * T, V, nullptr);
  std::vector<std::vector<float>> lp(R, std::vector<float>(t_real));
  for (int64_t r = 0; r < R; ++r)
    for (int t = 0; t < t_real; ++t)
      lp[r][t] = logp.data()[(r * T + t) * V + out.at(static_cast<int>(r), t)];
  return lp;
}

}  // namespace

std::vector<Matrix> forced_occlusion(Seq2Seq& model, const std::vector<std::vector<int>>& src,
                                     const std::vector<std::vector<int>>& tgt,
                                     int max_positions) {
  NoGradGuard no_grad;
  std::vector<Matrix> out(src.size());
  for_each_batch(src, tgt, 1, Batches::kSideBySide,
                 [&](const Batch& batch, const std::vector<int64_t>& pair) {
    const int S = batch.src_len[0], T = batch.tgt_len[0];
    Matrix& m = out[pair[0]];
    m.assign(T, std::vector<float>(S, 0.0f));
    const Batch whole = copies_of(batch, 0, 1, T);
    const std::vector<float> base =
        target_log_probs(model.logits(whole, Mode::kEval)->value, whole.tgt_out, T)[0];
    const int chunk = std::max(1, max_positions / batch.tgt_in.cols);
    for (int first = 0; first < S; first += chunk) {
      const int rows = std::min(S, first + chunk) - first;
      Batch copies = copies_of(batch, 0, rows, T);
      for (int r = 0; r < rows; ++r) copies.src.at(r, first + r) = kUnkId;  // copy r hides one
      const auto hidden =
          target_log_probs(model.logits(copies, Mode::kEval)->value, copies.tgt_out, T);
      for (int r = 0; r < rows; ++r)
        for (int t = 0; t < T; ++t) m[t][first + r] = std::max(0.0f, base[t] - hidden[r][t]);
    }
    normalise_rows(m);
  });
  return out;
}

std::vector<Matrix> forced_saliency(Seq2Seq& model, const std::vector<std::vector<int>>& src,
                                    const std::vector<std::vector<int>>& tgt,
                                    int max_positions) {
  FrozenParameters frozen(model.params());
  Var embedded;  // the source embeddings of the current pass, a leaf that takes gradients
  SourceHook hook(model, [&](const Var& lookup) {
    embedded = parameter(lookup->value);
    return embedded;
  });
  std::vector<Matrix> out(src.size());
  // In turn: the hook and the gradients belong to the model and this thread.
  for_each_batch(src, tgt, 1, Batches::kInTurn,
                 [&](const Batch& batch, const std::vector<int64_t>& pair) {
    const int S = batch.src_len[0], T = batch.tgt_len[0];
    Matrix& m = out[pair[0]];
    m.assign(T, std::vector<float>(S, 0.0f));
    // Copies of 8 consecutive pieces a pass: each pass stops at its last piece (the decoder is
    // causal), so short passes skip most of the decoder and of the [R, T, V] logits (1.8x faster
    // than one pass for all the pieces, a quarter of the memory); at most max_positions target
    // positions a pass.
    const int chunk = std::min(8, std::max(1, max_positions / batch.tgt_in.cols));
    for (int first = 0; first < T; first += chunk) {
      const int last = std::min(T, first + chunk);
      const Batch copies = one_piece_copies(batch, 0, first, last);
      Var logits = model.logits(copies, Mode::kEval);  // [R, T, V]
      ATTNMT_CHECK(embedded && embedded->value.rank() == 3,
                   "saliency: the model did not pass its source embeddings to the hook");
      const int64_t V = logits->value.shape().last();
      Var flat = reshape(logits, Shape{static_cast<int64_t>(copies.tgt_out.ids.size()), V});
      backward(cross_entropy_with_logits(flat, copies.tgt_out.ids, 0.0f, kPadId, true));
      ATTNMT_CHECK(embedded->grad.shape() == embedded->value.shape(),
                   "saliency: no gradient reached the source embeddings");
      gradient_norms(embedded->grad, m, first);
      embedded.reset();
    }
    normalise_rows(m);
  });
  return out;
}

std::vector<Matrix> forced_alignment(Seq2Seq& model, const std::vector<std::vector<int>>& src,
                                     const std::vector<std::vector<int>>& tgt,
                                     AlignmentMethod method, int batch_size) {
  if (method == AlignmentMethod::kSaliency) return forced_saliency(model, src, tgt);
  if (method == AlignmentMethod::kOcclusion) return forced_occlusion(model, src, tgt);
  return forced_attention(model, src, tgt, batch_size);
}

std::vector<Matrix> forced_attention(Seq2Seq& model, const std::vector<std::vector<int>>& src,
                                     const std::vector<std::vector<int>>& tgt, int batch_size) {
  NoGradGuard no_grad;
  std::vector<Matrix> out(src.size());
  for_each_batch(src, tgt, batch_size, Batches::kSideBySide,
                 [&](const Batch& batch, const std::vector<int64_t>& pair) {
    const Tensor attention = model.alignment(batch);  // [B, T, S]
    const int B = batch.size(), T = batch.tgt_out.cols, S = batch.src.cols;
    ATTNMT_CHECK(attention.rank() == 3 && attention.dim(0) == B && attention.dim(1) == T &&
                     attention.dim(2) == S,
                 "forced alignment: the model returned attention {}, expected [{}, {}, {}]",
                 attention.shape().str(), B, T, S);
    for (int b = 0; b < B; ++b)
      out[pair[b]] = cut(attention, b, 0, batch.tgt_len[b], batch.src_len[b]);
  });
  return out;
}

std::vector<PairAttention> forced_attention_maps(Seq2Seq& model,
                                                 const std::vector<std::vector<int>>& src,
                                                 const std::vector<std::vector<int>>& tgt,
                                                 int batch_size) {
  NoGradGuard no_grad;
  std::vector<PairAttention> out(src.size());
  for_each_batch(src, tgt, batch_size, Batches::kSideBySide,
                 [&](const Batch& batch, const std::vector<int64_t>& pair) {
    const AttentionMaps maps = model.attention_maps(batch);
    for (int b = 0; b < batch.size(); ++b) {
      const int S = batch.src_len[b], T = batch.tgt_len[b];
      PairAttention& p = out[pair[b]];
      p.encoder = cut_layers(maps.encoder, b, S, S);
      p.decoder = cut_layers(maps.decoder, b, T, T);
      p.source = cut_layers(maps.source, b, T, S);
    }
  });
  return out;
}

}  // namespace attnmt
