#include "train/validation.h"

#include <cmath>

#include "autograd/ops.h"
#include "decode/translator.h"
#include "eval/bleu.h"
#include "text/batch.h"

namespace attnmt {

std::vector<std::string> validation_translations(Seq2Seq& model, const ParallelCorpus& dev,
                                                 const Vocab& vocab, int n) {
  NoGradGuard no_grad;
  n = static_cast<int>(std::min<int64_t>(n, dev.size()));
  TranslateOptions t;  // translate's defaults, greedy
  t.search.greedy = true;
  const std::vector<std::vector<int>> src(dev.src.begin(), dev.src.begin() + n);
  auto hyps = translate_ids(model, src, t);
  std::vector<std::string> out(n);
  for (int i = 0; i < n; ++i)
    if (!hyps[i].empty()) out[i] = vocab.decode(hyps[i][0].tokens);
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
  const int n = static_cast<int>(std::min<int64_t>(bleu_sentences, dev.size()));
  if (n <= 0) return r;
  std::vector<std::string> hyps = validation_translations(model, dev, vocab, n);
  std::vector<std::vector<std::string>> refs(1, std::vector<std::string>(n));
  for (int i = 0; i < n; ++i) refs[0][i] = vocab.decode(dev.tgt[i]);
  r.bleu = eval::corpus_bleu(hyps, refs).score;
  return r;
}

}  // namespace attnmt
