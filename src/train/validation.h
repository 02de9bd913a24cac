// Validation: per-token cross-entropy and perplexity of the dev set, and BLEU of greedy
// translations of (the first N sentences of) it, scored by the same code as `attnmt score`.
// The translations come from decode/'s search with its default limits, so validation BLEU is
// the BLEU of what `attnmt translate --greedy` writes.
#pragma once

#include <string>
#include <vector>

#include "models/seq2seq.h"
#include "text/corpus.h"
#include "text/vocab.h"

namespace attnmt {

struct ValidResult {
  double ce = 0;  // nats per target token (no label smoothing)
  double ppl = 0;
  double bleu = -1;  // -1 when not computed
};

ValidResult validate(Seq2Seq& model, const ParallelCorpus& dev, const Vocab& vocab,
                     int64_t batch_tokens, int bleu_sentences);

// The greedy translations (decoded text) of the first n dev sources, as validation scores them.
std::vector<std::string> validation_translations(Seq2Seq& model, const ParallelCorpus& dev,
                                                 const Vocab& vocab, int n);

}  // namespace attnmt
