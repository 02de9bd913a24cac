// Forced alignment (see forced.h): batches of given pairs through forward(), weights cut to
// each pair's real lengths.
#include "decode/forced.h"

#include <algorithm>

#include "autograd/var.h"
#include "tensor/error.h"
#include "text/batch.h"

namespace attnmt {

namespace {

// Calls run(batch, group) for length-sorted batches of the non-empty pairs; group holds each
// batch row's pair index (into src/tgt).
template <typename F>
void for_each_batch(const std::vector<std::vector<int>>& src,
                    const std::vector<std::vector<int>>& tgt, int batch_size, F&& run) {
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
  // Similar lengths together: less padding computed for nothing.
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return corpus.tgt[a].size() + corpus.src[a].size() >
           corpus.tgt[b].size() + corpus.src[b].size();
  });
  const size_t step = static_cast<size_t>(std::max(1, batch_size));
  for (size_t begin = 0; begin < order.size(); begin += step) {
    const size_t end = std::min(order.size(), begin + step);
    std::vector<int64_t> group(order.begin() + begin, order.begin() + end);
    const Batch batch = make_batch(corpus, group);
    std::vector<int64_t> pair(group.size());
    for (size_t b = 0; b < group.size(); ++b) pair[b] = corpus.line_no[group[b]];
    run(batch, pair);
  }
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

}  // namespace

std::vector<Matrix> forced_attention(Seq2Seq& model, const std::vector<std::vector<int>>& src,
                                     const std::vector<std::vector<int>>& tgt, int batch_size) {
  NoGradGuard no_grad;
  std::vector<Matrix> out(src.size());
  for_each_batch(src, tgt, batch_size, [&](const Batch& batch, const std::vector<int64_t>& pair) {
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
  for_each_batch(src, tgt, batch_size, [&](const Batch& batch, const std::vector<int64_t>& pair) {
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
