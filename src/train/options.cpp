#include "train/options.h"

#include <cmath>

#include "tensor/error.h"
#include "tensor/threads.h"

namespace attnmt {

void TrainOptions::validate() const {
  ATTNMT_CHECK(valid_src.empty() == valid_tgt.empty(), "--valid-src and --valid-tgt go together");
  ATTNMT_CHECK(vocab_size > 4 || !vocab.empty(), "--vocab-size must be above 4, got {}",
               vocab_size);
  ATTNMT_CHECK(character_coverage > 0 && character_coverage <= 1,
               "--character-coverage must be in (0, 1], got {}", character_coverage);
  ATTNMT_CHECK(max_length >= 0, "--max-train-length must not be negative");
  ATTNMT_CHECK(precision != Precision::kInt8,
               "--precision int8 is for translate and align only (training needs float "
               "gradients); use --precision bf16, fp32 or auto");
  ATTNMT_CHECK(batch_tokens > 0, "--batch-tokens must be positive, got {}", batch_tokens);
  ATTNMT_CHECK(std::isfinite(lr) && lr > 0, "--lr must be a positive number, got {}", lr);
  ATTNMT_CHECK(warmup >= 0, "--warmup must not be negative");
  ATTNMT_CHECK(std::isfinite(guided_alignment_weight) && guided_alignment_weight >= 0,
               "--guided-alignment-weight must be a number >= 0, got {}", guided_alignment_weight);
  ATTNMT_CHECK(guided_alignment.empty() || model.arch == Arch::kTransformer,
               "--guided-alignment supervises a Transformer's attention head: it needs --arch "
               "transformer");
  ATTNMT_CHECK(adam.beta1 >= 0 && adam.beta1 < 1, "--adam-beta1 must be in [0, 1), got {}",
               adam.beta1);
  ATTNMT_CHECK(adam.beta2 >= 0 && adam.beta2 < 1, "--adam-beta2 must be in [0, 1), got {}",
               adam.beta2);
  ATTNMT_CHECK(std::isfinite(adam.eps) && adam.eps > 0, "--adam-eps must be positive");
  ATTNMT_CHECK(std::isfinite(clip_norm) && clip_norm >= 0,
               "--clip-norm must be >= 0 (0 = off), got {}", clip_norm);
  ATTNMT_CHECK(label_smoothing >= 0 && label_smoothing < 1,
               "--label-smoothing must be in [0, 1), got {}", label_smoothing);
  ATTNMT_CHECK(ema == 0 || (ema > 0 && ema < 1),
               "--ema must be in (0, 1), e.g. 0.9999 (0 = off), got {}", ema);
  ATTNMT_CHECK(keep_last >= 0, "--keep-last must not be negative");
  ATTNMT_CHECK(keep_last == 0 || save_every > 0,
               "--keep-last {} keeps the models written at each checkpoint, but --save-every is 0 "
               "(no checkpoints): give --save-every N",
               keep_last);
  ATTNMT_CHECK(
      max_steps >= 0 && max_epochs >= 0 && std::isfinite(max_time_minutes) && max_time_minutes >= 0,
      "--max-steps, --max-epochs and --max-time must not be negative");
  ATTNMT_CHECK(patience >= 0, "--patience must not be negative");
  check_threads(threads);
  ATTNMT_CHECK(save_every >= 0 && valid_every >= 0 && log_every >= 0,
               "--save-every, --valid-every and --log-every must not be negative");
  ATTNMT_CHECK(valid_bleu_sentences >= 0, "--valid-bleu-sentences must not be negative");
  model.validate(/*with_vocab=*/false);
}

}  // namespace attnmt
