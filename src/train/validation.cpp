#include "train/validation.h"

#include <cmath>

#include "autograd/ops.h"
#include "eval/bleu.h"
#include "text/batch.h"

namespace attnmt {

std::vector<std::vector<int>> greedy_translate(Seq2Seq& model, const IdMatrix& src,
                                               std::span<const int> src_len, int max_len) {
  NoGradGuard no_grad;
  const int B = src.rows;
  auto state = model.encode(src, src_len);
  std::vector<std::vector<int>> out(B);
  std::vector<int> alive(B), last(B, kBosId);  // alive[i]: sentence of state row i
  for (int b = 0; b < B; ++b) alive[b] = b;
  for (int t = 0; t < max_len && !alive.empty(); ++t) {
    Step s = model.step(*state, last);
    const int64_t V = s.logprobs.dim(1);
    std::vector<int> keep, next_alive, next_last;
    for (size_t r = 0; r < alive.size(); ++r) {
      const float* row = s.logprobs.data() + r * V;
      int best = kEosId;
      for (int64_t v = 0; v < V; ++v)
        if (v != kPadId && v != kBosId && row[v] > row[best]) best = static_cast<int>(v);
      if (best == kEosId) continue;
      out[alive[r]].push_back(best);
      keep.push_back(static_cast<int>(r));
      next_alive.push_back(alive[r]);
      next_last.push_back(best);
    }
    if (keep.size() != alive.size() && !keep.empty()) model.select(*state, keep);
    alive.swap(next_alive);
    last.swap(next_last);
  }
  return out;
}

ValidResult validate(Seq2Seq& model, const ParallelCorpus& dev, const Vocab& vocab,
                     int64_t batch_tokens, int bleu_sentences) {
  NoGradGuard no_grad;
  ValidResult r;
  double total = 0;
  int64_t tokens = 0;
  BatchOptions bo;
  bo.batch_tokens = batch_tokens;
  for (const Batch& b : make_ordered_batches(dev, bo)) {
    Var logits = model.logits(b, Mode::kEval);
    const int64_t V = logits->value.shape().last();
    Var flat = reshape(logits, Shape{static_cast<int64_t>(b.tgt_out.ids.size()), V});
    total += cross_entropy_with_logits(flat, b.tgt_out.ids, 0.0f, kPadId)->value[0];
    tokens += b.n_tgt_tokens;
  }
  r.ce = tokens ? total / tokens : 0.0;
  r.ppl = std::exp(r.ce);
  int n = std::min<int64_t>(bleu_sentences, dev.size());
  if (n <= 0) return r;
  std::vector<std::string> hyps(n);
  std::vector<std::vector<std::string>> refs(1, std::vector<std::string>(n));
  for (int start = 0; start < n; start += 64) {
    std::vector<int64_t> idx;
    for (int i = start; i < std::min(n, start + 64); ++i) idx.push_back(i);
    Batch b = make_batch(dev, idx);
    auto out = greedy_translate(model, b.src, b.src_len, 2 * b.src.cols + 10);
    for (size_t i = 0; i < idx.size(); ++i) {
      hyps[idx[i]] = vocab.decode(out[i]);
      refs[0][idx[i]] = vocab.decode(dev.tgt[idx[i]]);
    }
  }
  r.bleu = eval::corpus_bleu(hyps, refs).score;
  return r;
}

}  // namespace attnmt
