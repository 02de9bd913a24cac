// Checkpoints: the model file plus what training needs to continue exactly where it stopped
// (optimiser moments, step, epoch and batch position, random state, early-stopping state).
// Written atomically, so an interrupted write never destroys the previous checkpoint.
#pragma once

#include <string>

#include "models/model_io.h"
#include "train/optimizer.h"
#include "train/options.h"

namespace attnmt {

struct TrainState {
  int64_t step = 0;
  int64_t epoch = 0;           // 0-based epoch in progress
  int64_t batch_in_epoch = 0;  // batches of that epoch already done
  double seconds = 0;          // training time so far (for --max-time)
  double best_score = -1e30;   // best validation score (BLEU, or -CE without BLEU)
  int bad_validations = 0;     // since the best
  float plateau_scale = 1.0f;
  int64_t tokens = 0;          // target tokens seen
};

// `more` are further named tensors to keep (the moving average of the parameters, "ema/...").
void save_checkpoint(const std::string& path, const Seq2Seq& model, const Vocab& vocab,
                     const Adam& adam, const TrainState& state, Rng& rng, const KeyValues& extra,
                     const NamedTensors& more = {});

struct LoadedCheckpoint {
  LoadedModel loaded;
  TrainState state;
};
// Restores the model (built from the stored config), the optimiser moments and the random
// state; refuses a file that is not a checkpoint with a clear message.
LoadedCheckpoint load_checkpoint(const std::string& path);
void restore_optimizer(const LoadedCheckpoint& ckpt, Adam& adam);

// --resume with options that disagree with the checkpoint. Throws attnmt::Error when the
// architecture differs, --vocab names another vocabulary, or the checkpoint stores float16
// tensors (Adam's small second moments would have been lost). Returns a note for every other
// model setting the checkpoint keeps over the command line ("emb_dim 16 (given: 32)").
std::vector<std::string> check_resume(const LoadedCheckpoint& ckpt, const TrainOptions& options,
                                      const Vocab* given_vocab);

// train --keep-last N: at each checkpoint the model is also written to OUTPUT.step-S (S the
// step), and only the newest N of those files stay, for `attnmt average`.
std::string snapshot_path(const std::string& output, int64_t step);
// The snapshots of OUTPUT on disk, oldest step first.
std::vector<std::string> list_snapshots(const std::string& output);
// Removes all but the newest `keep`; returns the paths removed.
std::vector<std::string> prune_snapshots(const std::string& output, int keep);

// Why training cannot go on (the steps, epochs or minutes allowed are used up by `state`), or
// "". `max_epochs` is the limit in force (10 when no limit was given).
std::string budget_met(const TrainOptions& options, const TrainState& state, int64_t max_epochs);

}  // namespace attnmt
