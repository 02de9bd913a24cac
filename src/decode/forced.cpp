// Forced alignment (see forced.h): batches of given pairs through forward(), weights cut to
// each pair's real lengths.
#include "decode/forced.h"

#include <algorithm>

#include "autograd/var.h"
#include "tensor/error.h"
#include "text/batch.h"

namespace attnmt {

std::vector<Matrix> forced_attention(Seq2Seq& model, const std::vector<std::vector<int>>& src,
                                     const std::vector<std::vector<int>>& tgt, int batch_size) {
  ATTNMT_CHECK(src.size() == tgt.size(), "forced_attention: {} sources but {} targets", src.size(),
               tgt.size());
  NoGradGuard no_grad;
  std::vector<Matrix> out(src.size());
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
    Batch batch = make_batch(corpus, group);
    Tensor attention;  // [B, T, S]
    model.forward(batch, Mode::kEval, &attention);
    const int B = batch.size(), T = batch.tgt_out.cols, S = batch.src.cols;
    ATTNMT_CHECK(attention.rank() == 3 && attention.dim(0) == B && attention.dim(1) == T &&
                     attention.dim(2) == S,
                 "forced alignment: the model returned attention {}, expected [{}, {}, {}]",
                 attention.shape().str(), B, T, S);
    for (int b = 0; b < B; ++b) {
      Matrix& m = out[corpus.line_no[group[b]]];
      m.resize(batch.tgt_len[b]);
      for (int t = 0; t < batch.tgt_len[b]; ++t) {
        const float* row = attention.data() + (static_cast<int64_t>(b) * T + t) * S;
        m[t].assign(row, row + batch.src_len[b]);
      }
    }
  }
  return out;
}

}  // namespace attnmt
