// TrainOptions: everything `attnmt train` can be told, parsed once (cli/cmd_train.cpp) from the
// command line and/or a config file. The rest of the trainer sees only this struct.
#pragma once

#include <cstdint>
#include <string>

#include "io/model_file.h"
#include "models/config.h"
#include "tensor/precision.h"
#include "text/vocab.h"
#include "train/optimizer.h"
#include "train/schedule.h"

namespace attnmt {

struct TrainOptions {
  // Data
  std::string src, tgt;                            // training pairs
  std::string valid_src, valid_tgt;                // optional validation pairs
  std::string output;                              // the model file (best on validation, else last)
  TensorDtype save_dtype = TensorDtype::kFloat32;  // storage of `output`; checkpoints: float32
  std::string vocab;      // an existing SentencePiece model (PREFIX or PREFIX.model)
  int vocab_size = 8000;  // when training the vocabulary here
  PieceModel vocab_model_type = PieceModel::kUnigram;
  double character_coverage = 0.9995;
  int max_length = 100;  // --max-train-length: skip training pairs with a side over N pieces
  bool skip_bad_lines = false;

  ModelConfig model;  // the architecture (vocab_size is filled from the vocabulary)

  // Optimisation
  int64_t batch_tokens = 4096;  // real target tokens per batch (EOS included, padding not)
  float lr = 1e-3f;
  ScheduleKind schedule = ScheduleKind::kConstant;
  int64_t warmup = 0;
  AdamOptions adam;
  float clip_norm = 1.0f;
  float label_smoothing = 0.1f;
  // Weight averaging: an exponential moving average of the parameters with this decay
  // (0 = off), validated and saved instead of the raw weights (train/averaging.h).
  float ema = 0.0f;
  // Guided alignment (train/guided_alignment.h): Pharaoh links for the training pairs, and the
  // weight of their loss against the translation loss (both per target token).
  std::string guided_alignment;
  float guided_alignment_weight = 0.1f;

  // When to stop (0 = no limit; with none set, 10 epochs)
  int64_t max_steps = 0;
  int64_t max_epochs = 0;
  double max_time_minutes = 0;
  int patience = 0;  // early stopping after this many validations without improvement

  // Bookkeeping
  uint64_t seed = 1;
  int threads = 0;  // 0 = all cores
  Precision precision = Precision::kAuto;  // of the matrix products (never int8)
  int64_t save_every = 1000;
  int keep_last = 0;  // also keep the last N models of the checkpoints, OUTPUT.step-S (0 = off)
  int64_t valid_every = 1000;
  int64_t log_every = 100;
  int valid_bleu_sentences = 500;  // greedy-translate this many dev sentences for BLEU (0 = off)
  bool resume = false;
  std::string log_file;
  bool progress = false;  // force the live progress line even when stderr is not a terminal
  bool quiet = false;

  std::string checkpoint_path() const { return output + ".ckpt"; }
  // Throws attnmt::Error naming the option of the first value that cannot work, before any
  // work starts (the model's settings too, except the vocabulary size, not known yet).
  void validate() const;
};

}  // namespace attnmt
