// Synchronous data-parallel training on the ranks of an MPI job (train/cluster.h).
//
// Every rank builds the same global batches (the --batch-tokens budget is the whole job's) and
// computes on its own share of each; the gradients are summed over the ranks, so every rank
// makes the same optimiser step from the same gradient as one process would with the whole
// batch, and all ranks keep the same parameters (checked at every checkpoint). Rank 0 alone
// validates and writes files. Not here: the collectives (train/cluster.h), the loop
// (train/trainer.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/parameters.h"
#include "text/batch.h"
#include "train/checkpoint.h"
#include "train/options.h"

namespace attnmt {

// Rank `rank`'s share of a global batch: its pairs cut into `ranks` runs in order, with about
// equal target tokens (a rank may get none when the batch has fewer pairs than ranks).
Batch batch_share(const ParallelCorpus& corpus, const Batch& global, int rank, int ranks);

// Sums every parameter's gradient over the ranks, in place: tensors of `bucket_floats` or more
// go alone, smaller ones are packed together into buckets of about that size (one collective
// each instead of one per tensor). A parameter without a gradient on this rank counts as 0.
void sum_gradients(ParameterStore& params, std::vector<float>& bucket,
                   int64_t bucket_floats = int64_t{1} << 20);

// What the ranks agree on after each backward pass.
struct StepAgreement {
  std::array<double, 3> figures;  // summed over the ranks: loss, guided loss, guided rows
  double seconds;                 // rank 0's training time: the clock of every decision
  bool stop;                      // a rank was sent SIGINT/SIGTERM
  double waited, summed;          // seconds waiting for the slowest rank, then summing
};
// Sums the gradients (sum_gradients) and the step's `figures` over the ranks; `seconds` counts
// on rank 0 only, `stop_requested` on any.
StepAgreement agree_on_step(ParameterStore& params, std::vector<float>& bucket,
                            const std::array<double, 3>& figures, double seconds,
                            bool stop_requested);

// After rank 0's validation: what it decided (the best score, the validations without
// improvement, the plateau scale) becomes every rank's, so that all stop and scale the learning
// rate alike.
void share_validation_state(TrainState& state);

// Before the first update: every rank was given the same options, reads the same data and
// starts from the same parameters (a rank that differs would drift silently); throws otherwise.
void require_ranks_agree(const TrainOptions& options, const ParallelCorpus& corpus,
                         const Vocab& vocab, const ParameterStore& params);

// Fingerprints (64-bit hashes) that the ranks compare at the start and at checkpoints.
uint64_t fingerprint_options(const TrainOptions& options);  // what changes the arithmetic
uint64_t fingerprint_data(const ParallelCorpus& corpus, const Vocab& vocab);
uint64_t fingerprint_parameters(const ParameterStore& params);

// Throws attnmt::Error on every rank when a rank's `value` differs from rank 0's, naming those
// ranks, `what` differs ("training data") and `hint` (what to do).
void require_same_on_all_ranks(uint64_t value, const std::string& what, const std::string& hint);

// The dropout seed of a step on a rank: the masks depend only on (seed, step, rank), so a
// --resume under mpirun continues exactly without the ranks' random states in the checkpoint.
uint64_t rank_step_seed(uint64_t seed, int64_t step, int rank);

}  // namespace attnmt
