// Seq2Seq: the one interface both architectures implement. Training and decoding drive a model
// only through it and never know which architecture they hold.
// Legend: B batch, S source length, T target length, D width, V vocabulary,
//         N live hypotheses (rows of a decoder state).
// Not here: the search (src/decode/), the loss and optimiser (src/train/).
#pragma once

#include <functional>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/parameters.h"
#include "models/config.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "text/batch.h"

namespace attnmt {

enum class Mode { kTrain, kEval };  // kTrain enables dropout

// What a model keeps between decoding steps (encoder memory, recurrent state, caches).
class DecoderState {
 public:
  virtual ~DecoderState() = default;
  virtual int rows() const = 0;  // N
};

// Which encoded sentence each decoder row reads. All beams of a sentence share its source-side
// tensors (encoder memory, cross-attention keys and values), which therefore stay one row per
// sentence, as encode() made them: the models read them through sentences() instead of copying
// them to the decoder's rows at every select().
class SourceRows {
 public:
  explicit SourceRows(int n = 0) : sentence_(n) {
    std::iota(sentence_.begin(), sentence_.end(), 0);
  }
  // Applies `rows` (new row i = old row rows[i], each in range).
  void select(std::span<const int> rows) {
    std::vector<int> next(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      ATTNMT_CHECK(rows[i] >= 0 && rows[i] < static_cast<int>(sentence_.size()),
                   "select: row {} of {}", rows[i], sentence_.size());
      next[i] = sentence_[rows[i]];
    }
    sentence_ = std::move(next);
  }
  // The sentence (encoded row) each live row reads: [N].
  std::span<const int> sentences() const { return sentence_; }

 private:
  std::vector<int> sentence_;  // [N]
};

struct Step {
  Tensor logprobs;   // [N, V]
  Tensor attention;  // [N, S] the alignment row of this step (source positions incl. EOS)
};

// Every attention map of one teacher-forced pass, per layer and head, for showing what a model
// attends to (attnmt serve). Padding rows and columns are 0. Rows of `source` and `decoder`
// are the decoder's input positions (BOS, y_1 ... y_n: row t predicts y_{t+1}, the last EOS).
struct AttentionMaps {
  std::vector<Tensor> encoder;  // per encoder layer [B, H, S, S] (Transformer only)
  std::vector<Tensor> decoder;  // per decoder layer [B, H, T, T], causal (Transformer only)
  std::vector<Tensor> source;   // per decoder layer [B, H, T, S] (the LSTM: one layer, H = 1)
};

// A small configuration of an architecture, named for messages (the registry's examples).
struct ModelExample {
  std::string name;
  ModelConfig config;
};
// The start of every example: the architecture, the vocabulary, no dropout.
inline ModelConfig small_config(Arch arch, int vocab_size) {
  ModelConfig c;
  c.arch = arch;
  c.vocab_size = vocab_size;
  c.dropout = 0.0f;
  return c;
}

class Seq2Seq {
 public:
  virtual ~Seq2Seq() = default;

  // Teacher-forced pass: unnormalised scores [B, T, V] as a graph node (training feeds them to
  // the fused log-softmax + cross-entropy). When `attention` is given it receives the alignment
  // weights [B, T, S] (padding columns are 0). When `guided_loss` is given, training, and the
  // batch has a guide (train/guided_alignment.h), it receives the guided-alignment loss [1] as
  // a graph node: -sum guide * log(attention of the supervised head) over the guided rows
  // (models that cannot be guided leave it empty: supports_guided_alignment()).
  virtual Var logits(const Batch& batch, Mode mode, Tensor* attention = nullptr,
                     Var* guided_loss = nullptr) = 0;
  virtual bool supports_guided_alignment() const { return false; }
  // The same pass as log-probabilities [B, T, V].
  Var forward(const Batch& batch, Mode mode, Tensor* attention = nullptr) {
    return log_softmax(logits(batch, mode, attention));
  }
  // The alignment weights [B, T, S] that logits() gives, in eval mode (call under NoGradGuard):
  // what forced alignment needs. A model may skip what they do not depend on (the output layer,
  // a Transformer's decoder layers above the aligning one).
  virtual Tensor alignment(const Batch& batch) {
    Tensor a;
    logits(batch, Mode::kEval, &a);
    return a;
  }
  // The same pass in eval mode (call under NoGradGuard), keeping every attention map. The
  // default is the alignment's map as one layer of one head (what an LSTM has).
  virtual AttentionMaps attention_maps(const Batch& batch) {
    Tensor a;  // [B, T, S]
    logits(batch, Mode::kEval, &a);
    AttentionMaps maps;
    maps.source.push_back(a.reshape(Shape{a.dim(0), 1, a.dim(1), a.dim(2)}));
    return maps;
  }

  // Inference (call under NoGradGuard): encode src [B, S] once (src_len [B] incl. EOS) ...
  virtual std::unique_ptr<DecoderState> encode(const IdMatrix& src,
                                               std::span<const int> src_len) = 0;
  // ... then one step for every row: last_tokens [N] (BOS first) -> log-probs and attention.
  virtual Step step(DecoderState& state, std::span<const int> last_tokens) = 0;
  // Keep, reorder or duplicate rows after a beam step: new row i = old row rows[i].
  virtual void select(DecoderState& state, std::span<const int> rows) = 0;

  // The most positions a side can take, BOS/EOS included (the Transformer's max_positions), or
  // 0 for no limit (the LSTM). Callers cut or skip longer sequences; the model refuses them.
  virtual int max_positions() const { return 0; }

  const ModelConfig& config() const { return config_; }
  // Which source attention aligns (a Transformer's decoder layer and head, -1: the last layer,
  // the heads' average): a setting read at run time, so it may change after construction.
  void set_alignment(int layer, int head) {
    ModelConfig c = config_;
    c.align_layer = layer, c.align_head = head;
    c.validate(false);
    config_ = c;
  }
  ParameterStore& params() { return params_; }
  const ParameterStore& params() const { return params_; }
  Rng& rng() { return rng_; }
  // Gradient-based alignment (decode/forced.h, forced_saliency): while set, the encoders pass
  // their source embedding lookup [B, S, D] (before positions and dropout) through `hook`,
  // which may keep it, replace it (a leaf that takes gradients, noise added) and returns what
  // the encoder goes on with. Empty: the lookup as it is.
  void set_source_hook(std::function<Var(const Var&)> hook) { source_hook_ = std::move(hook); }

 protected:
  // `from` (loading): parameters are taken from there instead of being initialised.
  Seq2Seq(const ModelConfig& config, uint64_t seed, const ParameterSource* from)
      : config_(config), params_(from), rng_(seed) {}
  // The encoders pass their source embedding lookup through here (see set_source_hook).
  Var tapped_source(Var embedded) const {
    return source_hook_ ? source_hook_(embedded) : embedded;
  }
  ModelConfig config_;
  ParameterStore params_;
  Rng rng_;  // dropout and initialisation
  std::function<Var(const Var&)> source_hook_;
};

// Builds the model the config names (models/registry.h), with freshly initialised parameters,
// or, given `from`, with the parameters moved out of it (what is left there was not used).
std::unique_ptr<Seq2Seq> make_model(const ModelConfig& config, uint64_t seed = 1,
                                    const ParameterSource* from = nullptr);

// Throws Error when training the model the config names would need more memory than there is
// for its weights, their gradients and Adam's two moments (16 bytes a parameter). make_model
// checks it for a model built anew; `train` also checks it before it trains a vocabulary.
void check_trainable_here(const ModelConfig& config);

}  // namespace attnmt
