// ModelConfig: everything that defines a model's architecture, stored as key=value pairs in
// the model file and settable from the presets in models/*.ini. Training options are not here
// (src/train/options.h).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace attnmt {

struct ModelConfig {
  std::string arch = "lstm";  // "lstm" | "transformer"
  int vocab_size = 0;         // joint SentencePiece vocabulary
  int emb_dim = 256;          // embedding width (= d_model for the Transformer)
  float dropout = 0.1f;
  bool tie_embeddings = true;  // output projection = embedding matrix transposed
  bool output_bias = false;
  int enc_layers = 1;  // LSTM: encoder layers; Transformer: encoder blocks
  int dec_layers = 1;
  // LSTM with attention
  int enc_hidden = 256;       // per direction
  bool bidirectional = true;
  int dec_hidden = 512;
  std::string attention = "general";  // "dot" | "general" | "additive"
  bool input_feeding = true;
  // Transformer
  int heads = 4;
  int ffn_dim = 1024;
  bool pre_norm = true;
  std::string activation = "relu";  // "relu" | "gelu"
  bool learned_positions = false;
  int max_positions = 1024;
  float attention_dropout = 0.0f;
  float ffn_dropout = 0.0f;
  int align_layer = -1;  // decoder layer whose source attention is the alignment (-1 = last)
  int align_head = -1;   // -1 = heads averaged

  std::vector<std::pair<std::string, std::string>> to_pairs() const;
  // Reads the pairs written by to_pairs(); unknown keys are ignored, bad values throw.
  static ModelConfig from_pairs(const std::vector<std::pair<std::string, std::string>>& kv);
  void validate() const;  // throws attnmt::Error naming the bad setting
};

}  // namespace attnmt
