// attnmt train: parses the options (command line and/or --config INI file) into TrainOptions
// and runs the trainer. The model options are made from ModelConfig's own list of settings
// (models/config.h), so a new setting is an option, a preset key and a model-file entry at once.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "cli/commands.h"
#include "cli/options.h"
#include "models/registry.h"
#include "tensor/error.h"
#include "train/cluster.h"
#include "train/trainer.h"

namespace attnmt::cli {

namespace {

// Renamed in 0.2: the old names work for one more release.
constexpr OptionAlias kAliases[] = {{"max-length", "max-train-length"}};

// One option per ModelConfig setting: "emb_dim" -> --emb-dim, default and help from there.
po::options_description model_options(ModelConfig& m) {
  po::options_description d("model (any of these also in --config files)");
  m.for_each_setting([&](const char* key, auto& field, const char* help) {
    if (!help) return;
    std::string name = key;
    std::replace(name.begin(), name.end(), '_', '-');
    std::string text = help;
    using T = std::remove_reference_t<decltype(field)>;
    if constexpr (HasChoices<T>) text = with_choices<T>(help);
    d.add_options()(name.c_str(), value_of(&field), text.c_str());  // Boost copies both
  });
  return d;
}

}  // namespace

std::optional<TrainOptions> parse_train_options(int argc, char** argv) {
  TrainOptions o;
  std::string config, max_memory;
  po::options_description data("data"), optim("optimisation"), run("run");
  data.add_options()
      ("src", po::value(&o.src)->required(), "training source file (one sentence per line)")
      ("tgt", po::value(&o.tgt)->required(), "training target file, line-aligned with --src")
      ("valid-src", po::value(&o.valid_src), "validation source file")
      ("valid-tgt", po::value(&o.valid_tgt), "validation target file")
      ("output,o", po::value(&o.output)->required(), "the model file to write (best on validation)")
      ("save-dtype", value_of(&o.save_dtype), with_choices<TensorDtype>("how the model file stores "
                     "parameters: float16 is half the size; checkpoints stay float32").c_str())
      ("vocab", po::value(&o.vocab), "an existing SentencePiece model (PREFIX or PREFIX.model); "
                                     "without it, train builds one (OUTPUT.spm.model)")
      ("vocab-size", value_of(&o.vocab_size), "pieces when training the vocabulary")
      ("vocab-model-type", value_of(&o.vocab_model_type), with_choices<PieceModel>("SentencePiece model").c_str())
      ("character-coverage", value_of(&o.character_coverage), "SentencePiece character coverage")
      ("max-train-length", value_of(&o.max_length), "skip training pairs with a side over N pieces (0 = no limit)")
      ("skip-bad-lines", po::bool_switch(&o.skip_bad_lines), "skip (and count) pairs that are not UTF-8 text instead of failing")
      ("config", po::value(&config), "an INI file of these options (e.g. models/lstm-attention.ini); "
                                     "the command line wins");
  optim.add_options()
      ("batch-tokens", value_of(&o.batch_tokens), "real target tokens per batch (EOS counted, padding not)")
      ("lr", value_of(&o.lr), "peak learning rate")
      ("schedule", value_of(&o.schedule), with_choices<ScheduleKind>("learning-rate schedule; "
                   "linear and cosine fall to 0 at the end of the budget (--max-steps, --max-time "
                   "or --max-epochs)").c_str())
      ("warmup", value_of(&o.warmup), "linear warm-up steps")
      ("adam-beta1", value_of(&o.adam.beta1), "Adam beta1")
      ("adam-beta2", value_of(&o.adam.beta2), "Adam beta2")
      ("adam-eps", value_of(&o.adam.eps), "Adam epsilon")
      ("clip-norm", value_of(&o.clip_norm), "clip the gradient norm (0 = off)")
      ("label-smoothing", value_of(&o.label_smoothing), "label smoothing")
      ("ema", value_of(&o.ema), "keep an exponential moving average of the weights with this "
                                "decay (e.g. 0.999; 0 = off): validated and saved instead of the "
                                "last weights")
      ("guided-alignment", po::value(&o.guided_alignment),
       "Pharaoh word links for the training pairs (one line per pair, e.g. from fast_align or "
       "attnmt align): supervise the alignment head (align-layer, align-head; head 0 when -1) "
       "with them")
      ("guided-alignment-weight", value_of(&o.guided_alignment_weight),
       "the weight of the guided-alignment loss (cross-entropy per linked target piece)");
  run.add_options()
      ("max-steps", value_of(&o.max_steps), "stop after N updates (0 = no limit)")
      ("max-epochs", value_of(&o.max_epochs), "stop after N epochs (default 10 when no limit is set)")
      ("max-time", value_of(&o.max_time_minutes), "stop after N minutes of training")
      ("patience", value_of(&o.patience), "early stopping: validations without improvement (0 = off)")
      ("seed", value_of(&o.seed), "random seed (initialisation, dropout, batch order)")
      ("threads", value_of(&o.threads), "threads (0 = all cores)")
      ("precision", value_of(&o.precision), with_choices<Precision>("matrix products: auto = bf16 "
                    "where the CPU has AMX-BF16 or AVX512-BF16, else fp32 (int8: translation only)").c_str())
      ("save-every", value_of(&o.save_every), "checkpoint every N steps")
      ("keep-last", value_of(&o.keep_last), "also keep the model of each of the last N "
                    "checkpoints as OUTPUT.step-S, for `attnmt average` (0 = off)")
      ("valid-every", value_of(&o.valid_every), "validate every N steps")
      ("valid-bleu-sentences", value_of(&o.valid_bleu_sentences), "dev sentences translated greedily for BLEU (0 = off)")
      ("log-every", value_of(&o.log_every), "log a progress line every N steps")
      ("resume", po::bool_switch(&o.resume), "continue from OUTPUT.ckpt exactly where it stopped")
      ("log", po::value(&o.log_file), "append progress and validation lines to this file, and "
                                      "the learning curve to LOG.tsv (for `attnmt plot`)")
      ("progress", po::bool_switch(&o.progress), "the live progress line even when stderr is not a terminal")
      ("quiet,q", po::bool_switch(&o.quiet), "print nothing but errors");
  add_max_memory_option(run, max_memory);
  po::options_description all;
  all.add(data).add(model_options(o.model)).add(optim).add(run);
  std::string archs;
  for (const auto& a : architectures()) archs += fmt::format("\n  {:<12} {}", a.name, a.summary);
  CommandSpec spec{"train", "attnmt train --src FILE --tgt FILE -o MODEL [--config PRESET.ini] [options]",
                   "Trains a model. Without --vocab it first trains a joint SentencePiece "
                   "vocabulary and embeds it in\nthe model. Checkpoints go to MODEL.ckpt; --resume "
                   "continues from there. Presets: models/*.ini.\nArchitectures (--arch):" + archs};
  if (!parse_options(spec, all, argc, argv, {.config_option = "config", .aliases = kAliases}))
    return std::nullopt;
  check_usage(spec, all, [&] {
    o.validate();
    apply_max_memory(max_memory);
  });
  return o;
}

int run_train(int argc, char** argv) {
  std::optional<TrainOptions> o = parse_train_options(argc, argv);
  if (!o) return 0;
  cluster::init();  // one rank of `mpirun -np N attnmt train`, or the only one
  TrainSummary s;
  try {
    s = train(*o);
  } catch (const Error& e) {
    // Every rank says what stopped it; the others' messages say which rank they come from.
    if (cluster::rank() > 0) throw Error(fmt::format("{}: {}", cluster::whoami(), e.what()));
    throw;
  }
  cluster::finalize();
  return s.interrupted ? 130 : 0;
}

}  // namespace attnmt::cli
