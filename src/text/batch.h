// Token-budget batching: groups encoded sentence pairs of similar length into padded id
// matrices for training and validation.
// Not here: reading or encoding text (text/corpus.h), tensors (models turn IdMatrix into
// embeddings themselves).
//
// Budget convention (as in the reference): a batch holds at most `batch_tokens` REAL target
// tokens, counting the EOS of every target and no padding. A single pair whose target is longer
// than the budget still forms a batch of its own, so that no pair is ever dropped.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "text/corpus.h"
#include "text/vocab.h"

namespace attnmt {

// Row-major ids, padded with kPadId.
struct IdMatrix {
  int rows = 0, cols = 0;
  std::vector<int> ids;  // [rows * cols]
  int& at(int r, int c) { return ids[static_cast<size_t>(r) * cols + c]; }
  int at(int r, int c) const { return ids[static_cast<size_t>(r) * cols + c]; }
};

struct Batch {
  IdMatrix src;                       // [B, S]  source ids + EOS, padded
  IdMatrix tgt_in;                    // [B, T]  BOS + target ids, padded
  IdMatrix tgt_out;                   // [B, T]  target ids + EOS, padded
  std::vector<int> src_len, tgt_len;  // [B] real lengths (incl. EOS / BOS)
  std::vector<int64_t> index;         // [B] position of each pair in the corpus
  int64_t n_tgt_tokens = 0;           // real target tokens (EOS included, padding not)
  // Guided alignment, when the corpus has it: [B, T, S] row t = the source pieces that the
  // target piece predicted at t (tgt_out[t]) is linked to, summing to 1; rows without links 0.
  std::vector<float> guide;
  int64_t guided_rows = 0;  // rows of `guide` with links
  int size() const { return src.rows; }
};

struct BatchOptions {
  int64_t batch_tokens = 4096;  // budget of real target tokens per batch (see above)
  int pool_batches = 100;       // length-sort within pools of ~this many batches
  int max_sentences = 0;        // also cap sentences per batch (0 = no cap)
};

// One epoch: every pair of the corpus exactly once. Shuffles all pairs with a generator seeded
// from (seed, epoch), sorts each pool of ~pool_batches * batch_tokens target tokens by (target
// length, source length), cuts it into batches and shuffles the batch order. Deterministic for
// a given (seed, epoch).
std::vector<Batch> make_epoch_batches(const ParallelCorpus& corpus, const BatchOptions& options,
                                      uint64_t seed, int64_t epoch);

// The same cutting without shuffling (validation, scoring): pairs in corpus order.
std::vector<Batch> make_ordered_batches(const ParallelCorpus& corpus, const BatchOptions& options);

// The padded batch of the given pairs, in that order.
Batch make_batch(const ParallelCorpus& corpus, std::span<const int64_t> indices);

}  // namespace attnmt
