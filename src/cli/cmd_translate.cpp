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
#include "cli/search_options.h"
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
  Precision precision = Precision::kAuto;
  std::string max_memory;  // --max-memory
  TranslateOptions t;
};

const CommandSpec kSpec{
    "translate",
    "attnmt translate -m MODEL [-i FILE] [-o FILE] [--beam N] [--greedy] [--n-best K]"
    " [--alignment none|hard|soft] [--alignment-level word|piece] [options]",
    "Translates one sentence per line (UTF-8) from FILE, or stdin without -i, into one line per\n"
    "input line, in input order, written atomically to -o (stdout without -o). An empty input\n"
    "line gives an empty output line. Beam search scores a hypothesis logprob / len^A (len\n"
    "counts the EOS) and stops a sentence at min(--max-output-length, R x input pieces +\n"
    "--max-output-extra) pieces.\n"
    "Batches: sentences of similar length, at most --batch-size of them and, with\n"
    "--batch-tokens N, at most N = sentences x longest input (pieces incl. EOS) x beam.\n"
    "--n-best K prints K lines per input: 'INDEX ||| translation ||| score' (INDEX 0-based).\n"
    "--alignment appends ' ||| ' and the alignment to each line (after the score with\n"
    "--n-best): hard = Pharaoh 'src-tgt' index pairs, soft = one comma-separated row of source\n"
    "weights per target token, rows separated by spaces. --alignment-level word (default)\n"
    "counts the space-separated words of the (normalised) input line and of the output line;\n"
    "piece counts SentencePiece pieces. EOS is left out of both. Hard links are read by\n"
    "occlusion (the best aligner, slower), soft rows are the attention, unless the model or\n"
    "--alignment-method says otherwise (attnmt align --help).\n"
    "Example: attnmt translate -m model.attnmt -i test.en -o test.out --beam 5"};

// Renamed in 0.2: the old names work for one more release.
constexpr OptionAlias kAliases[] = {{"max-length", "max-output-length"},
                                    {"max-length-ratio", "max-output-ratio"},
                                    {"max-length-extra", "max-output-extra"},
                                    {"max-source-length", "max-input-length"}};

std::optional<TranslateCliOptions> parse(int argc, char** argv) {
  TranslateCliOptions o;
  TranslateOptions& t = o.t;
  po::options_description io("input and output");
  io.add_options()
      ("input,i", value_of(&o.input), "input file (- = stdin)")
      ("output,o", value_of(&o.output), "output file (- = stdout)")
      ("n-best", value_of(&t.search.n_best),
       "print the K best translations per line, 'INDEX ||| text ||| score'")
      ("alignment", value_of(&t.alignment),
       with_choices<AlignmentOutput>("append the alignment: hard (Pharaoh) or soft").c_str())
      ("window", value_of(&t.window), "lines read, length-sorted and translated together")
      ("progress", po::bool_switch(&t.progress),
       "lines/s on stderr (always on when stderr is a terminal)");
  po::options_description desc;
  desc.add(model_options(o.model_path, o.threads, o.precision, o.max_memory)).add(io).add(search_options(t)).add(batch_options(t)).add(alignment_level_option(t));
  auto vm = parse_options(kSpec, desc, argc, argv, {.aliases = kAliases});
  if (!vm) return std::nullopt;
  check_usage(kSpec, desc, [&] {
    t.validate();
    check_threads(o.threads);
    apply_max_memory(o.max_memory);
  });
  note_given(*vm, t);
  t.n_best_format = vm->count("n-best") && !(*vm)["n-best"].defaulted();
  // The progress line is for people watching a terminal; --progress forces it elsewhere.
  if (isatty(STDERR_FILENO)) t.progress = true;
  return o;
}

}  // namespace

int run_translate(int argc, char** argv) {
  std::optional<TranslateCliOptions> parsed = parse(argc, argv);
  if (!parsed) return 0;
  TranslateCliOptions& o = *parsed;
  check_outputs("translate", {{"-o", o.output}}, {{"-i", o.input}, {"-m", o.model_path}});
  set_threads(o.threads);
  const ResolvedPrecision precision = use_precision(o.precision);
  LoadedModel lm = load_aligning_model(
      o.model_path, o.t,
      o.t.alignment == AlignmentOutput::kHard ? AlignmentUse::kLinks : AlignmentUse::kWeights);
  AtomicOutput out(o.output);
  TranslateStats stats = translate_file(*lm.model, lm.vocab, o.input, out.stream(), o.t);
  out.commit();
  warn_cut("translate", stats.truncated, *lm.model, o.t.max_input_pieces);
  if (o.t.progress)
    fmt::print(stderr,
               "attnmt translate: {} lines ({} empty) in {:.2f} s: {:.1f} lines/s, {:.0f} target "
               "pieces/s; products in {}\n",
               stats.lines, stats.empty, stats.seconds, stats.lines / std::max(1e-9, stats.seconds),
               stats.tgt_pieces / std::max(1e-9, stats.seconds), precision.why);
  return 0;
}

}  // namespace attnmt::cli
