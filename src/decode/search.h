// Search: batched beam search and greedy search over any Seq2Seq, driving it only through
// encode / step / select. Each hypothesis carries its tokens, its scores and the attention row
// of every step (the alignment matrix).
// Not here: reading files, batching lines, formatting output (decode/translator.h), or
// turning attention into alignment formats (decode/alignment.h).
//
// Legend: B sentences in the batch, S padded source length, S_b one sentence's source length
// (incl. EOS), K beam width, N = live sentences x K decoder rows, V vocabulary.
//
// Rules (those of the reference, /work/shared/reference/nmt_ref.py):
//   - a hypothesis ends at EOS; its score is logprob / len^alpha, len counting the EOS;
//   - at most L = max_output_length(...) pieces before EOS, EOS is forced at step L, so every
//     search ends after at most L+1 steps;
//   - a sentence is done once it holds K finished hypotheses and its best live hypothesis,
//     scored as if it ended at the next step, is no better than the n_best-th finished one
//     (the reference stops at K finished: we may only find better), or once no live row is
//     left; it leaves the batch at once (select with the surviving rows);
//   - PAD and BOS are never generated.
#pragma once

#include <span>
#include <vector>

#include "models/seq2seq.h"
#include "text/batch.h"

namespace attnmt {

struct SearchOptions {
  int beam = 5;                   // K; 1 is plain best-first (same result as greedy)
  float length_penalty = 1.0f;    // alpha in logprob / len^alpha (0 = raw log-probability)
  float max_length_ratio = 2.0f;  // output pieces <= ratio x source pieces + extra ...
  int max_length_extra = 10;
  int max_length = 256;  // ... and <= this, whatever the source length
  int n_best = 1;        // hypotheses returned per sentence (K is raised to n_best)
  bool greedy = false;   // the argmax fast path (beam and n_best ignored)
};

struct Hypothesis {
  std::vector<int> tokens;  // [len] piece ids, no BOS, no EOS
  float score = 0;          // logprob / (len + 1)^alpha
  float logprob = 0;        // sum of the log-probabilities of the tokens and the EOS
  std::vector<std::vector<float>> attention;  // [len + 1][S_b] one row per token, EOS last
};

// L: the longest output (pieces, EOS excluded) for a source of `src_len` positions incl. EOS:
// min(max_length, ratio x (src_len - 1) + extra), at least 1.
int max_output_length(int src_len, const SearchOptions& options);

// src [B, S] (ids + EOS, padded), src_len [B] incl. EOS. Returns for every sentence its
// min(n_best, found) best hypotheses, best first (ties: the one found first). With
// options.greedy it is greedy_search().
std::vector<std::vector<Hypothesis>> beam_search(Seq2Seq& model, const IdMatrix& src,
                                                 std::span<const int> src_len,
                                                 const SearchOptions& options);

// One row per sentence, the argmax token at every step: beam_search with K = 1 (the same
// result, without the merging). As there, an argmax EOS ends a hypothesis, but the search goes
// on with the runner-up token while that prefix still scores better; the best is kept.
std::vector<std::vector<Hypothesis>> greedy_search(Seq2Seq& model, const IdMatrix& src,
                                                   std::span<const int> src_len,
                                                   const SearchOptions& options);

}  // namespace attnmt
