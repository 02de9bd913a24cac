// Validation: per-token cross-entropy and perplexity of the dev set, and BLEU of greedy
// translations of (the first N sentences of) it, scored by the same code as `attnmt score`.
// The greedy loop here is the trainer's own small one; translation proper is src/decode/.
#pragma once

#include <string>
#include <vector>

#include "models/seq2seq.h"
#include "text/corpus.h"
#include "text/vocab.h"

namespace attnmt {

struct ValidResult {
  double ce = 0;    // nats per target token (no label smoothing)
  double ppl = 0;
  double bleu = -1; // -1 when not computed
};

ValidResult validate(Seq2Seq& model, const ParallelCorpus& dev, const Vocab& vocab,
                     int64_t batch_tokens, int bleu_sentences);

// Greedy decoding of src [B, S] under NoGradGuard: token ids without BOS/EOS per row.
std::vector<std::vector<int>> greedy_translate(Seq2Seq& model, const IdMatrix& src,
                                               std::span<const int> src_len, int max_len);

}  // namespace attnmt
