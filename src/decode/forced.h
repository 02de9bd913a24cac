// Forced alignment: the model's attention for GIVEN sentence pairs, read from one
// teacher-forced forward pass (Seq2Seq::forward in eval mode, no gradients) instead of a search.
// Behind `attnmt align --src FILE --tgt FILE`.
// Not here: the alignment formats (decode/alignment.h) or the model's own translations
// (decode/translator.h).
#pragma once

#include <vector>

#include "decode/alignment.h"
#include "models/seq2seq.h"

namespace attnmt {

using Matrix = std::vector<std::vector<float>>;  // [rows][cols]

// src[i], tgt[i]: piece ids without BOS/EOS. Returns for each pair its attention [T_i][S_i]
// with T_i = tgt[i].size() + 1 (the last row predicts EOS) and S_i = src[i].size() + 1 (the
// last column is the source EOS). A pair with an empty side gets an empty matrix and is not
// fed to the model. Pairs are length-sorted into batches of at most batch_size.
std::vector<Matrix> forced_attention(Seq2Seq& model, const std::vector<std::vector<int>>& src,
                                     const std::vector<std::vector<int>>& tgt, int batch_size = 32);

// The same matrices [T_i][S_i] from gradients instead of attention (AlignmentMethod::kSaliency,
// after Ding et al. 2019, "Saliency-driven Word Alignment Interpretation for NMT"): row j,
// column i = the length of d log p(y_j | y_<j, x) / d e_i, the gradient of target piece j's
// log-probability with respect to source piece i's embedding e_i, rows then summing to 1 (how
// strongly each source piece can move the choice of y_j). Every target piece needs its own
// gradient: each pair runs as T_i copies, copy j scoring only piece j, at most
// `max_positions` target positions per pass. Parameters take no gradient meanwhile.
std::vector<Matrix> forced_saliency(Seq2Seq& model, const std::vector<std::vector<int>>& src,
                                    const std::vector<std::vector<int>>& tgt,
                                    int max_positions = 4096);
// The same matrices [T_i][S_i] by occlusion (AlignmentMethod::kOcclusion, the "prediction
// difference" of Li et al. 2019, "On the Word Alignment from Neural Machine Translation"): row j,
// column i = max(0, log p(y_j | y_<j, x) - log p(y_j | y_<j, x with x_i = <unk>)), how much
// target piece j's log-probability falls when source piece i is hidden (replaced by the unknown
// piece; a zero embedding instead aligned worse: docs/BENCHMARKS.md), rows then summing to 1
// (a row that no hiding lowers: uniform). Forward passes only: each pair runs once whole and as
// S_i copies, copy i hiding piece i, at most `max_positions` target positions per pass.
std::vector<Matrix> forced_occlusion(Seq2Seq& model, const std::vector<std::vector<int>>& src,
                                     const std::vector<std::vector<int>>& tgt,
                                     int max_positions = 4096);
// forced_saliency for AlignmentMethod::kSaliency, forced_occlusion for kOcclusion, else
// forced_attention.
std::vector<Matrix> forced_alignment(Seq2Seq& model, const std::vector<std::vector<int>>& src,
                                     const std::vector<std::vector<int>>& tgt,
                                     AlignmentMethod method, int batch_size = 32);

// Every attention map of one pair (Seq2Seq::attention_maps), cut to its real lengths, as
// [layer][head] matrices. Rows of `source` and `decoder` are the decoder's inputs (BOS, y_1 ...
// y_n: T = tgt.size() + 1 rows), columns of `source` and both sides of `encoder` the source
// positions incl. EOS (S = src.size() + 1).
struct PairAttention {
  std::vector<std::vector<Matrix>> encoder;  // [layer][head] [S][S] (Transformer only)
  std::vector<std::vector<Matrix>> decoder;  // [layer][head] [T][T], causal (Transformer only)
  std::vector<std::vector<Matrix>> source;   // [layer][head] [T][S]
};
// The same batching as forced_attention; a pair with an empty side gets no maps.
std::vector<PairAttention> forced_attention_maps(Seq2Seq& model,
                                                 const std::vector<std::vector<int>>& src,
                                                 const std::vector<std::vector<int>>& tgt,
                                                 int batch_size = 32);

}  // namespace attnmt
