// attnmt train: parses the options (command line and/or --config INI file) into TrainOptions
// and runs the trainer.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "train/trainer.h"

namespace attnmt::cli {

int run_train(int argc, char** argv) {
  TrainOptions o;
  ModelConfig& m = o.model;
  std::string config, save_dtype;
  po::options_description data("data"), model("model"), optim("optimisation"), run("run");
  data.add_options()
      ("src", po::value(&o.src)->required(), "training source file (one sentence per line)")
      ("tgt", po::value(&o.tgt)->required(), "training target file, line-aligned with --src")
      ("valid-src", po::value(&o.valid_src), "validation source file")
      ("valid-tgt", po::value(&o.valid_tgt), "validation target file")
      ("output,o", po::value(&o.output)->required(), "the model file to write (best on validation)")
      ("save-dtype", po::value(&save_dtype)->default_value("float32"), "how the model file stores "
                     "parameters: float32, or float16 (half the size; checkpoints stay float32)")
      ("vocab", po::value(&o.vocab), "an existing SentencePiece model (PREFIX or PREFIX.model); "
                                     "without it, train builds one (OUTPUT.spm.model)")
      ("vocab-size", po::value(&o.vocab_size)->default_value(8000), "pieces when training the vocabulary")
      ("vocab-model-type", po::value(&o.vocab_model_type)->default_value("unigram"), "unigram or bpe")
      ("character-coverage", po::value(&o.character_coverage)->default_value(0.9995), "SentencePiece character coverage")
      ("max-length", po::value(&o.max_length)->default_value(100), "skip training pairs with a side over N pieces")
      ("skip-bad-lines", po::bool_switch(&o.skip_bad_lines), "skip (and count) pairs with invalid UTF-8 instead of failing");
  model.add_options()
      ("config", po::value(&config), "an INI file of these options (e.g. models/lstm-attention.ini); "
                                     "the command line wins")
      ("arch", po::value(&m.arch)->default_value("lstm"), "lstm or transformer")
      ("emb-dim", po::value(&m.emb_dim)->default_value(256), "embedding width (the Transformer's d)")
      ("enc-layers", po::value(&m.enc_layers)->default_value(1), "encoder layers")
      ("dec-layers", po::value(&m.dec_layers)->default_value(1), "decoder layers")
      ("enc-hidden", po::value(&m.enc_hidden)->default_value(256), "LSTM encoder width per direction")
      ("bidirectional", po::value(&m.bidirectional)->default_value(true), "bidirectional LSTM encoder")
      ("dec-hidden", po::value(&m.dec_hidden)->default_value(512), "LSTM decoder width")
      ("attention", po::value(&m.attention)->default_value("general"), "LSTM attention: dot, general or additive")
      ("input-feeding", po::value(&m.input_feeding)->default_value(true), "Luong input feeding")
      ("heads", po::value(&m.heads)->default_value(4), "Transformer attention heads")
      ("ffn-dim", po::value(&m.ffn_dim)->default_value(1024), "Transformer feed-forward width")
      ("pre-norm", po::value(&m.pre_norm)->default_value(true), "Transformer pre-norm (false: post-norm)")
      ("activation", po::value(&m.activation)->default_value("relu"), "Transformer FFN activation: relu or gelu")
      ("learned-positions", po::value(&m.learned_positions)->default_value(false), "learned instead of sinusoidal positions")
      ("align-layer", po::value(&m.align_layer)->default_value(-1), "Transformer decoder layer used for alignments (-1 = last)")
      ("align-head", po::value(&m.align_head)->default_value(-1), "head used for alignments (-1 = average)")
      ("dropout", po::value(&m.dropout)->default_value(0.1f), "dropout probability")
      ("attention-dropout", po::value(&m.attention_dropout)->default_value(0.0f), "Transformer attention dropout")
      ("ffn-dropout", po::value(&m.ffn_dropout)->default_value(0.0f), "Transformer feed-forward dropout")
      ("tie-embeddings", po::value(&m.tie_embeddings)->default_value(true), "output projection = embedding matrix")
      ("output-bias", po::value(&m.output_bias)->default_value(false), "a bias in the output layer");
  optim.add_options()
      ("batch-tokens", po::value(&o.batch_tokens)->default_value(4096), "real target tokens per batch (EOS counted, padding not)")
      ("lr", po::value(&o.lr)->default_value(1e-3f), "peak learning rate")
      ("schedule", po::value(&o.schedule)->default_value("constant"), "constant, inverse-sqrt or plateau")
      ("warmup", po::value(&o.warmup)->default_value(0), "linear warm-up steps")
      ("adam-beta1", po::value(&o.adam.beta1)->default_value(0.9f), "Adam beta1")
      ("adam-beta2", po::value(&o.adam.beta2)->default_value(0.999f), "Adam beta2")
      ("adam-eps", po::value(&o.adam.eps)->default_value(1e-8f), "Adam epsilon")
      ("clip-norm", po::value(&o.clip_norm)->default_value(1.0f), "clip the gradient norm (0 = off)")
      ("label-smoothing", po::value(&o.label_smoothing)->default_value(0.1f), "label smoothing");
  run.add_options()
      ("max-steps", po::value(&o.max_steps)->default_value(0), "stop after N updates (0 = no limit)")
      ("max-epochs", po::value(&o.max_epochs)->default_value(0), "stop after N epochs (default 10 when no limit is set)")
      ("max-time", po::value(&o.max_time_minutes)->default_value(0), "stop after N minutes of training")
      ("patience", po::value(&o.patience)->default_value(0), "early stopping: validations without improvement (0 = off)")
      ("seed", po::value(&o.seed)->default_value(1), "random seed (initialisation, dropout, batch order)")
      ("threads", po::value(&o.threads)->default_value(0), "threads (0 = all cores)")
      ("save-every", po::value(&o.save_every)->default_value(1000), "checkpoint every N steps")
      ("valid-every", po::value(&o.valid_every)->default_value(1000), "validate every N steps")
      ("valid-bleu-sentences", po::value(&o.valid_bleu_sentences)->default_value(500), "dev sentences translated greedily for BLEU (0 = off)")
      ("log-every", po::value(&o.log_every)->default_value(100), "log a progress line every N steps")
      ("resume", po::bool_switch(&o.resume), "continue from OUTPUT.ckpt exactly where it stopped")
      ("log", po::value(&o.log_file), "append progress and validation lines to this file")
      ("progress", po::bool_switch(&o.progress), "the live progress line even when stderr is not a terminal")
      ("quiet,q", po::bool_switch(&o.quiet), "print nothing but errors");
  po::options_description all;
  all.add(data).add(model).add(optim).add(run);
  CommandSpec spec{"train", "attnmt train --src FILE --tgt FILE -o MODEL [--config PRESET.ini] [options]",
                   "Trains an LSTM-attention or Transformer model. Without --vocab it first trains a "
                   "joint SentencePiece vocabulary\nand embeds it in the model. Checkpoints go to "
                   "MODEL.ckpt; --resume continues from there. Presets: models/*.ini."};
  if (!parse_options(spec, all, argc, argv, nullptr, "config")) return 0;
  o.save_dtype = parse_tensor_dtype(save_dtype, "--save-dtype");
  TrainSummary s = train(o);
  return s.interrupted ? 130 : 0;
}

}  // namespace attnmt::cli
