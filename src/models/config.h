// ModelConfig: everything that defines a model's architecture. One table of settings
// (for_each_setting) is the single source of their names, defaults and help: the model file
// stores them as key=value pairs, `attnmt train` turns each into an option (key with '-' for
// '_') that the presets in models/*.ini may set, and `attnmt info` prints them.
// Not here: training options (src/train/options.h); which architectures exist
// (src/models/registry.h).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "nn/kinds.h"
#include "tensor/choice.h"

namespace attnmt {

// The architectures; their names, factories and checks are the registry's (models/registry.h).
enum class Arch { kLstm, kTransformer };
ChoiceSpan<Arch> choices(Arch);  // the registry's names

struct ModelConfig {
  Arch arch = Arch::kLstm;
  int vocab_size = 0;  // joint SentencePiece vocabulary (from the vocabulary, not an option)
  int emb_dim = 256;   // embedding width (= d_model for the Transformer)
  float dropout = 0.1f;
  bool tie_embeddings = true;  // output projection = embedding matrix transposed
  bool output_bias = false;
  int enc_layers = 1;  // LSTM: encoder layers; Transformer: encoder blocks
  int dec_layers = 1;
  // LSTM with attention
  int enc_hidden = 256;  // per direction
  bool bidirectional = true;
  int dec_hidden = 512;
  AttentionType attention = AttentionType::kGeneral;
  bool input_feeding = true;
  // Transformer
  int heads = 4;
  int ffn_dim = 1024;
  bool pre_norm = true;
  Activation activation = Activation::kRelu;
  bool learned_positions = false;
  int max_positions = 1024;
  float attention_dropout = 0.0f;
  float ffn_dropout = 0.0f;
  int align_layer = -1;  // decoder layer whose source attention is the alignment (-1 = last)
  int align_head = -1;   // -1 = heads averaged

  // Calls f(key, field, help) for every setting in file order; help is nullptr for the
  // settings that are not options (vocab_size). The one list of the settings.
  template <typename F>
  void for_each_setting(F&& f);

  std::vector<std::pair<std::string, std::string>> to_pairs() const;
  // Reads the pairs written by to_pairs(); unknown keys are ignored, bad values throw.
  static ModelConfig from_pairs(const std::vector<std::pair<std::string, std::string>>& kv);
  // Throws attnmt::Error naming the bad setting. with_vocab = false skips the vocabulary size
  // (the options are checked before the vocabulary exists).
  void validate(bool with_vocab = true) const;
  // The Transformer decoder layer that aligns, align_layer with -1 resolved to the last.
  int aligning_layer() const { return align_layer < 0 ? dec_layers - 1 : align_layer; }
};

template <typename F>
void ModelConfig::for_each_setting(F&& f) {
  f("arch", arch, "the architecture");
  f("vocab_size", vocab_size, nullptr);
  f("emb_dim", emb_dim, "embedding width (the Transformer's d)");
  f("dropout", dropout, "dropout probability");
  f("tie_embeddings", tie_embeddings, "output projection = embedding matrix");
  f("output_bias", output_bias, "a bias in the output layer");
  f("enc_layers", enc_layers, "encoder layers");
  f("dec_layers", dec_layers, "decoder layers");
  f("enc_hidden", enc_hidden, "LSTM encoder width per direction");
  f("bidirectional", bidirectional, "bidirectional LSTM encoder");
  f("dec_hidden", dec_hidden, "LSTM decoder width");
  f("attention", attention, "LSTM attention score");
  f("input_feeding", input_feeding, "Luong input feeding");
  f("heads", heads, "Transformer attention heads");
  f("ffn_dim", ffn_dim, "Transformer feed-forward width");
  f("pre_norm", pre_norm, "Transformer pre-norm (false: post-norm)");
  f("activation", activation, "Transformer feed-forward activation");
  f("learned_positions", learned_positions, "learned instead of sinusoidal positions");
  f("max_positions", max_positions, "Transformer: longest sequence (pieces incl. EOS)");
  f("attention_dropout", attention_dropout, "Transformer attention dropout");
  f("ffn_dropout", ffn_dropout, "Transformer feed-forward dropout");
  f("align_layer", align_layer, "Transformer decoder layer used for alignments (-1 = last)");
  f("align_head", align_head, "head used for alignments (-1 = average)");
}

}  // namespace attnmt
