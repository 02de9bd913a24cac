// The training loop: data, vocabulary, model, optimiser, validation, checkpoints, resume.
// Architecture-agnostic: it drives the model only through the Seq2Seq interface.
// Not here: option parsing (cli/cmd_train.cpp), the search used by translation (src/decode/).
#pragma once

#include <cstdint>
#include <string>

#include "train/options.h"

namespace attnmt {

struct TrainSummary {
  int64_t steps = 0;
  int64_t epochs_done = 0;
  double last_loss = 0;       // per target token, label-smoothed, over the last log window
  double tokens_per_second = 0;  // target tokens per second over the whole run
  double best_valid_bleu = -1;
  double last_valid_ce = -1;
  double seconds = 0;
  bool interrupted = false;   // stopped by SIGINT/SIGTERM (a checkpoint was written)
  int64_t skipped_updates = 0;  // for a NaN/Inf loss or gradient
  std::string stop_reason;
};

TrainSummary train(const TrainOptions& options);

}  // namespace attnmt
