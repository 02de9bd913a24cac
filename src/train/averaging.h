// Weight averaging, two kinds. During training: an exponential moving average of the parameters
// (Marian's exponential smoothing), which validation and the saved model use in place of the
// raw weights. After training: the plain average of several model files or checkpoints of one
// run (fairseq's checkpoint averaging; `attnmt average`).
// Not here: when training updates the average and saves it (trainer.cpp), the snapshots that
// `train --keep-last` writes for averaging (checkpoint.h).
#pragma once

#include <string>
#include <vector>

#include "autograd/parameters.h"
#include "models/model_io.h"

namespace attnmt {

class Ema {
 public:
  // The average starts at the parameters' current values.
  Ema(ParameterStore& params, float decay);
  // After update number `step` (1-based): avg = d avg + (1 - d) param, with
  // d = min(decay, (1 + step) / (10 + step)) so that the first steps are not averaged with
  // the random initialisation for thousands of steps.
  void update(int64_t step);
  // Exchanges the parameters' values with the averages (self-inverse; tells the GEMM seam).
  void swap();
  // The averages by parameter path: "ema/<path>" (kAverageTensorPrefix), for checkpoints.
  NamedTensors state() const;
  // Restores them from a checkpoint's tensors; false when it has none (a run without --ema).
  bool load_state(const NamedTensors& tensors, const std::string& source);

 private:
  ParameterStore& params_;
  float decay_;
  std::vector<Tensor> avg_;  // same order and shapes as params_.all()
};

// The averaged weights in the model for one scope: validation, saving a model.
class AveragedWeights {
 public:
  explicit AveragedWeights(Ema* ema) : ema_(ema) {
    if (ema_) ema_->swap();
  }
  ~AveragedWeights() {
    if (ema_) ema_->swap();
  }
  AveragedWeights(const AveragedWeights&) = delete;
  AveragedWeights& operator=(const AveragedWeights&) = delete;

 private:
  Ema* ema_;
};

// The parameter-wise mean of model files or checkpoints of one model. Throws attnmt::Error,
// naming the two files and the difference, when their architectures, settings or
// vocabularies differ. The result keeps the first file's config entries.
LoadedModel average_models(const std::vector<std::string>& paths);

}  // namespace attnmt
