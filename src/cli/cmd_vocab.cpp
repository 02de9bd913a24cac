// attnmt vocab: trains a SentencePiece vocabulary (joint by default) on a parallel corpus.
// Thin: parses options into VocabOptions and calls train_vocab() in text/vocab.h.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "tensor/threads.h"
#include "text/vocab.h"

namespace attnmt::cli {

int run_vocab(int argc, char** argv) {
  CommandSpec spec{
      "vocab", "attnmt vocab --src FILE --tgt FILE --size N -o PREFIX [options]",
      "Trains a SentencePiece vocabulary on a parallel corpus (one sentence per line, UTF-8).\n"
      "Joint over both sides by default: writes PREFIX.model and PREFIX.vocab; with --separate\n"
      "PREFIX.src.model/.vocab and PREFIX.tgt.model/.vocab. Special ids: pad=0 unk=1 bos=2 "
      "eos=3.\nEmpty pairs are skipped; what was skipped is reported on stderr."};
  VocabOptions o;
  po::options_description desc("options");
  desc.add_options()
      ("src", po::value(&o.src)->required(), "source-language training file")
      ("tgt", po::value(&o.tgt)->required(), "target-language training file")
      ("size", po::value(&o.size)->required(), "pieces per vocabulary (e.g. 8000)")
      ("output,o", po::value(&o.prefix)->required(), "output prefix")
      ("model-type", value_of(&o.model_type), with_choices<PieceModel>("SentencePiece model").c_str())
      ("separate", po::bool_switch(&o.separate), "one vocabulary per language instead of a joint one")
      ("character-coverage", value_of(&o.character_coverage),
       "share of characters the pieces must cover (1.0 keeps every character)")
      ("max-lines", value_of(&o.max_lines), "train on a random sample of at most N pairs (0 = all)")
      ("max-words", value_of(&o.reader.max_words), "skip pairs with a side over N words (0 = no limit)")
      ("skip-bad-lines", po::bool_switch(&o.reader.skip_bad_lines),
       "skip pairs that are not UTF-8 text (invalid bytes, NUL) instead of failing")
      ("seed", value_of(&o.seed), "seed for the sample")
      ("threads", value_of(&o.threads), "threads (0 = all cores)");
  // Renamed in 0.2: the old name works for one more release.
  constexpr OptionAlias kAliases[] = {{"max-length", "max-words"}};
  auto vm = parse_options(spec, desc, argc, argv, {.aliases = kAliases});
  if (!vm) return 0;
  check_usage(spec, desc, [&] { check_threads(o.threads); });
  o.threads = set_threads(o.threads);

  VocabResult r = train_vocab(o);
  fmt::print(stderr, "attnmt vocab: {}\n", describe(r.stats));
  if (r.pieces < o.size)
    fmt::print(stderr, "attnmt vocab: warning: this corpus gives only {} pieces, not the {} asked "
               "for (--size is an upper limit)\n", r.pieces, o.size);
  fmt::print("trained a {}-piece {} vocabulary on {} sentence pairs\n", r.pieces,
             name_of(o.model_type), r.sentences);
  for (const auto& path : r.written) fmt::print("wrote {}\n", path);
  return 0;
}

}  // namespace attnmt::cli
