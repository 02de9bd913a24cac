// attnmt translate: translates a text file (or stdin) with a trained model, one output line per
// input line, written atomically. This file only parses options; the pipeline is
// decode/translator.h and the search decode/search.h.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/options.h"
#include "decode/translator.h"
#include "io/atomic_file.h"
#include "models/model_io.h"
#include "tensor/error.h"
#include "tensor/threads.h"

namespace attnmt::cli {

namespace {

struct TranslateCliOptions {
  std::string model_path, input = "-", output = "-";
  int threads = 0;
  TranslateOptions t;
};

const CommandSpec kSpec{
    "translate",
    "attnmt translate -m MODEL [-i FILE] [-o FILE] [--beam N] [--batch-size N]"
    " [--batch-tokens N] [--n-best K] [--length-penalty A] [--max-length-ratio R] [--greedy]"
    " [--alignment soft|hard] [--alignment-level word|piece] [--threads N] [--progress]",
    "Translates one sentence per line (UTF-8) from FILE, or stdin without -i, into one line per\n"
    "input line, in input order, written atomically to -o (stdout without -o). An empty input\n"
    "line gives an empty output line. Beam search scores a hypothesis logprob / len^A (len\n"
    "counts the EOS) and stops a sentence at min(--max-length, R x source pieces +\n"
    "--max-length-extra) pieces.\n"
    "Batches: sentences of similar length, at most --batch-size of them and, with\n"
    "--batch-tokens N, at most N = sentences x longest source (pieces incl. EOS) x beam.\n"
    "--n-best K prints K lines per input: 'INDEX ||| translation ||| score' (INDEX 0-based).\n"
    "--alignment appends ' ||| ' and the alignment to each line (after the score with\n"
    "--n-best): hard = Pharaoh 'src-tgt' index pairs, soft = one comma-separated row of source\n"
    "weights per target token, rows separated by spaces. --alignment-level word (default)\n"
    "counts the space-separated words of the (normalised) source line and of the output line;\n"
    "piece counts SentencePiece pieces. EOS is left out of both.\n"
    "Example: attnmt translate -m model.attnmt -i test.en -o test.out --beam 5"};

std::optional<TranslateCliOptions> parse(int argc, char** argv) {
  TranslateCliOptions o;
  SearchOptions& s = o.t.search;
  std::string alignment = "none", level = "word";
  po::options_description desc("options");
  desc.add_options()("model,m", po::value(&o.model_path)->required(), "the model file")(
      "input,i", po::value(&o.input)->default_value("-"), "input file (- = stdin)")(
      "output,o", po::value(&o.output)->default_value("-"), "output file (- = stdout)")(
      "beam,b", po::value(&s.beam)->default_value(5), "beam width")(
      "greedy", po::bool_switch(&s.greedy), "greedy search (the result of --beam 1, faster)")(
      "n-best", po::value(&s.n_best)->default_value(1),
      "print the K best translations per line, 'INDEX ||| text ||| score'")(
      "length-penalty", po::value(&s.length_penalty)->default_value(1.0f, "1.0"),
      "A in logprob / len^A (0 = no length normalisation)")(
      "max-length-ratio", po::value(&s.max_length_ratio)->default_value(2.0f, "2.0"),
      "output pieces <= R x source pieces + extra")(
      "max-length-extra", po::value(&s.max_length_extra)->default_value(10), "the extra above")(
      "max-length", po::value(&s.max_length)->default_value(256),
      "output pieces <= N whatever the source")(
      "max-source-length", po::value(&o.t.max_source_pieces)->default_value(250),
      "cut longer sources to N pieces (counted in a warning)")(
      "batch-size", po::value(&o.t.batch_size)->default_value(64), "sentences per batch")(
      "batch-tokens", po::value(&o.t.batch_tokens)->default_value(0),
      "budget per batch: sentences x longest source x beam (0 = none)")(
      "window", po::value(&o.t.window)->default_value(1000),
      "lines read, length-sorted and translated together")(
      "alignment", po::value(&alignment)->default_value("none"),
      "append the alignment: none, hard (Pharaoh) or soft")(
      "alignment-level", po::value(&level)->default_value("word"), "word or piece")(
      "threads", po::value(&o.threads)->default_value(0), "threads (0 = all cores)")(
      "progress", po::bool_switch(&o.t.progress),
      "lines/s on stderr (always on when stderr is a terminal)");
  auto vm = parse_options(kSpec, desc, argc, argv);
  if (!vm) return std::nullopt;
  auto usage_error = [&](const std::string& message) {
    throw UsageError(message, usage_text(kSpec, desc));
  };
  if (alignment == "none")
    o.t.alignment = AlignmentOutput::kNone;
  else if (alignment == "hard")
    o.t.alignment = AlignmentOutput::kHard;
  else if (alignment == "soft")
    o.t.alignment = AlignmentOutput::kSoft;
  else
    usage_error(fmt::format("--alignment '{}': choose none, hard or soft", alignment));
  if (level != "word" && level != "piece")
    usage_error(fmt::format("--alignment-level '{}': choose word or piece", level));
  o.t.word_level = level == "word";
  if (s.beam < 1 || s.beam > 100) usage_error("--beam must be between 1 and 100");
  if (s.n_best < 1 || s.n_best > 100) usage_error("--n-best must be between 1 and 100");
  if (s.greedy && s.n_best > 1) usage_error("--greedy finds one translation: drop --n-best");
  if (s.max_length < 1) usage_error("--max-length must be at least 1");
  if (s.max_length_ratio < 0 || s.max_length_extra < 0)
    usage_error("--max-length-ratio and --max-length-extra must not be negative");
  if (o.t.batch_size < 1) usage_error("--batch-size must be at least 1");
  if (o.t.batch_tokens < 0) usage_error("--batch-tokens must not be negative");
  if (o.t.window < 1) usage_error("--window must be at least 1");
  if (o.t.max_source_pieces < 1) usage_error("--max-source-length must be at least 1");
  o.t.n_best_format = vm->count("n-best") && !(*vm)["n-best"].defaulted();
  // The progress line is for people watching a terminal; --progress forces it elsewhere.
  if (isatty(STDERR_FILENO)) o.t.progress = true;
  return o;
}

}  // namespace

int run_translate(int argc, char** argv) {
  std::optional<TranslateCliOptions> parsed = parse(argc, argv);
  if (!parsed) return 0;
  TranslateCliOptions& o = *parsed;
  set_threads(o.threads);
  LoadedModel lm = load_model(o.model_path);
  AtomicOutput out(o.output);
  TranslateStats stats = translate_file(*lm.model, lm.vocab, o.input, out.stream(), o.t);
  out.commit();
  if (stats.truncated)
    fmt::print(stderr,
               "attnmt translate: warning: {} input line(s) longer than {} pieces were cut "
               "(raise --max-source-length)\n",
               stats.truncated, o.t.max_source_pieces);
  if (o.t.progress)
    fmt::print(stderr,
               "attnmt translate: {} lines ({} empty) in {:.2f} s: {:.1f} lines/s, {:.0f} target "
               "pieces/s\n",
               stats.lines, stats.empty, stats.seconds, stats.lines / std::max(1e-9, stats.seconds),
               stats.tgt_pieces / std::max(1e-9, stats.seconds));
  return 0;
}

}  // namespace attnmt::cli
