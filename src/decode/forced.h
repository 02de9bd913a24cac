// Forced alignment: the model's attention for GIVEN sentence pairs, read from one
// teacher-forced forward pass (Seq2Seq::forward in eval mode, no gradients) instead of a search.
// Behind `attnmt align --src FILE --tgt FILE`.
// Not here: the alignment formats (decode/alignment.h) or the model's own translations
// (decode/translator.h).
#pragma once

#include <vector>

#include "models/seq2seq.h"

namespace attnmt {

using Matrix = std::vector<std::vector<float>>;  // [rows][cols]

// src[i], tgt[i]: piece ids without BOS/EOS. Returns for each pair its attention [T_i][S_i]
// with T_i = tgt[i].size() + 1 (the last row predicts EOS) and S_i = src[i].size() + 1 (the
// last column is the source EOS). A pair with an empty side gets an empty matrix and is not
// fed to the model. Pairs are length-sorted into batches of at most batch_size.
std::vector<Matrix> forced_attention(Seq2Seq& model, const std::vector<std::vector<int>>& src,
                                     const std::vector<std::vector<int>>& tgt, int batch_size = 32);

}  // namespace attnmt
