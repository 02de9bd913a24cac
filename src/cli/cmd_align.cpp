// attnmt align: exports the model's source-target attention as alignments, either for given
// sentence pairs (--tgt: forced alignment, one teacher-forced pass) or for the model's own
// translations (beam search). This file parses options and opens the outputs; the pipeline is
// decode/aligner.h.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/search_options.h"
#include "decode/aligner.h"
#include "decode/calibrate.h"
#include "eval/aer.h"
#include "io/atomic_file.h"
#include "io/model_file.h"
#include "models/model_io.h"
#include "text/corpus.h"
#include "tensor/error.h"
#include "tensor/threads.h"

namespace attnmt::cli {

namespace {

struct AlignCliOptions {
  std::string model_path, output = "-", reverse_path;
  std::string calibrate_path, save_calibrated;  // --calibrate GOLD, --save-calibrated OUT
  bool calibrate_flip = false;
  int calibrate_rows = 30;  // --calibrate-rows: the table's rows printed
  Symmetrize symmetrize = Symmetrize::kGrowDiagFinalAnd;
  int threads = 0;
  Precision precision = Precision::kAuto;
  std::string max_memory;  // --max-memory
  AlignOptions a;
};

const CommandSpec kSpec{
    "align",
    "attnmt align -m MODEL --src FILE [--tgt FILE] --format pharaoh|soft|json|svg"
    " [--alignment-level word|piece] [-o PATH] [--max-svg N] [--keep-eos] [--beam N]",
    "Writes the model's attention between each source line and its target as an alignment.\n"
    "With --tgt the target lines are given (forced alignment: the model reads each pair once,\n"
    "as in training); without it the target is the model's own translation (beam search).\n"
    "Formats, one line per pair (empty for an empty pair) to -o FILE or stdout:\n"
    "  pharaoh  'i-j' pairs, source i to target j (0-based), each target to its argmax source\n"
    "  soft     the weight matrix: rows (target tokens) separated by spaces, weights by commas\n"
    "  json     {\"source\": [...], \"target\": [...], \"alignment\": [[...]], \"hard\": [[i, "
    "j]]}\n"
    "  svg      a heatmap per pair: -o names a folder that receives NNNN.svg (NNNN = the line\n"
    "           number, from 0001), for the first --max-svg pairs; the paths are printed.\n"
    "--alignment-level word (default, every format) merges SentencePiece pieces into the\n"
    "space-separated words of the (normalised) lines: source weights of a word add up, target\n"
    "rows average; piece keeps the pieces. The EOS row and column are left out unless --keep-eos.\n"
    "--alignment-method shifted reads each target token's row at the next step (where it is the\n"
    "decoder's input); --alignment-layer/--alignment-head choose a Transformer's layer and head.\n"
    "--alignment-method saliency reads gradients, not attention: how strongly each source\n"
    "piece's embedding moves each target token's probability (a backward pass per token).\n"
    "--alignment-method occlusion hides each source piece in turn and reads how much each\n"
    "target token's probability falls (a forward pass per source piece). Both are slower than\n"
    "the attention and often far better aligners (occlusion the best: docs/BENCHMARKS.md).\n"
    "Default method: the model's own (align.method, from --save-calibrated or guided\n"
    "training), else occlusion for pharaoh links and prediction (the attention) for the\n"
    "weights of soft, json and svg. Occlusion reads words by default as --alignment-aggregate\n"
    "max --alignment-links grow --alignment-diagonal 2. --precision int8 halves its time.\n"
    "Hard links (pharaoh, json's \"hard\"): --alignment-links grow adds each source word's best\n"
    "target word (grow-diag-final-and); --alignment-diagonal D favours links near the diagonal.\n"
    "--reverse-model M2 (a model trained target -> source) adds its links, combined by\n"
    "--symmetrize (given pairs, pharaoh, word level). Score against gold: attnmt score\n"
    "--alignments.\n"
    "--calibrate GOLD (with --tgt; GOLD: Pharaoh links, 'i?j' possible) scores every decoder\n"
    "layer and head (and their average), method (saliency, occlusion too), --alignment-aggregate,\n"
    "--alignment-links and --alignment-diagonal (0, 2, 4, 8, 16) by AER on the pairs, prints\n"
    "the best rows, and with\n"
    "--save-calibrated OUT writes the model with the best as its own (align.method,\n"
    "align.aggregate, align.links, align.diagonal, and align_layer, align_head of the best\n"
    "attention row, also when saliency or occlusion is best), which translate, align and\n"
    "serve then use unless told otherwise. Calibrate on pairs you do not score on.\n"
    "Example: attnmt align -m model.attnmt --src test.en --tgt test.ja --format svg -o svg/"};

std::optional<AlignCliOptions> parse(int argc, char** argv) {
  AlignCliOptions o;
  AlignOptions& a = o.a;
  // Renamed in 0.2: the old names work for one more release.
  static constexpr OptionAlias kAliases[] = {{"level", "alignment-level"},
                                             {"max-length", "max-input-length"}};
  po::options_description io("input and output");
  io.add_options()
      ("src", po::value(&a.src_path)->required(), "source lines (- = stdin)")
      ("tgt", po::value(&a.tgt_path), "target lines, line-parallel (omit: align translations)")
      ("format", po::value(&a.format), with_choices<AlignFormat>("the output (required but with --calibrate)").c_str())
      ("output,o", value_of(&o.output), "output file (- = stdout); for svg a folder (required)")
      ("max-svg", value_of(&a.max_svg), "svg: at most N pictures")
      ("keep-eos", po::bool_switch(&a.keep_eos), "keep the </s> row and column")
      ("reverse-model", po::value(&o.reverse_path),
       "a model of the other direction (target -> source): its word links are combined with "
       "the model's (--symmetrize; pharaoh, word level, with --tgt)")
      ("symmetrize", value_of(&o.symmetrize),
       with_choices<Symmetrize>("how --reverse-model's links combine: intersect (precise), "
                                "union, grow-diag-final-and (balanced), or agree (the two "
                                "word matrices multiplied, each link the best of its row "
                                "and column: precise)").c_str())
      ("calibrate", po::value(&o.calibrate_path),
       "gold links of the pairs (Pharaoh, sure i-j and possible i?j): print the AER of every "
       "way of reading the model's attention (layer, head, method, aggregation, links, "
       "diagonal) instead of alignments")
      ("calibrate-rows", po::value(&o.calibrate_rows)->default_value(30),
       "with --calibrate: print the best N settings")
      ("calibrate-flip", po::bool_switch(&o.calibrate_flip),
       "the gold links are target-source (the model translates the other way): flip them")
      ("save-calibrated", po::value(&o.save_calibrated),
       "with --calibrate: write the model, aligning the best way, to this file");
  po::options_description desc;
  desc.add(model_options(o.model_path, o.threads, o.precision, o.max_memory)).add(io).add(alignment_level_option(a.t)).add(search_options(a.t)).add(batch_options(a.t));
  auto vm = parse_options(kSpec, desc, argc, argv, {.aliases = kAliases});
  if (!vm) return std::nullopt;
  check_usage(kSpec, desc, [&] {
    a.t.validate();
    check_threads(o.threads);
    apply_max_memory(o.max_memory);
    const bool calibrating = !o.calibrate_path.empty();
    ATTNMT_CHECK(calibrating || vm->count("format"),
                 "the option '--format' is required but missing");
    ATTNMT_CHECK(!calibrating || !a.tgt_path.empty(),
                 "--calibrate scores given pairs: give their target lines with --tgt");
    ATTNMT_CHECK(calibrating || (o.save_calibrated.empty() && !o.calibrate_flip),
                 "--save-calibrated and --calibrate-flip go with --calibrate GOLD");
    ATTNMT_CHECK(o.calibrate_rows >= 1, "--calibrate-rows must be at least 1");
    ATTNMT_CHECK(a.format != AlignFormat::kSvg || !is_stdout_path(o.output),
                 "--format svg writes one file per pair: name a folder with -o");
    ATTNMT_CHECK(a.max_svg >= 0, "--max-svg must not be negative");
    ATTNMT_CHECK(o.reverse_path.empty() || (!a.tgt_path.empty() &&
                                            a.format == AlignFormat::kPharaoh &&
                                            a.t.level == AlignmentLevel::kWord),
                 "--reverse-model combines the word links of given pairs: it needs --tgt, "
                 "--format pharaoh and --alignment-level word");
    ATTNMT_CHECK(!o.reverse_path.empty() || vm->count("symmetrize") == 0 ||
                     (*vm)["symmetrize"].defaulted(),
                 "--symmetrize combines two models' links: give the other direction's model "
                 "with --reverse-model");
  });
  note_given(*vm, a.t);
  return o;
}

// align --calibrate: the AER table of every way this model can align the pairs.
int run_calibration(AlignCliOptions& o) {
  check_outputs("align", {{"--save-calibrated", o.save_calibrated}},
                {{"--src", o.a.src_path}, {"--tgt", o.a.tgt_path}, {"-m", o.model_path},
                 {"--calibrate", o.calibrate_path}});
  set_threads(o.threads);
  use_precision(o.precision);
  const std::vector<std::string> src = read_lines(o.a.src_path, "source");
  const std::vector<std::string> tgt = read_lines(o.a.tgt_path, "target");
  const std::vector<std::string> gold_lines = read_lines(o.calibrate_path, "gold");
  if (src.size() != tgt.size() || src.size() != gold_lines.size())
    fail("--src has {} lines, --tgt {} and --calibrate {}: they must be line-parallel", src.size(),
         tgt.size(), gold_lines.size());
  std::vector<eval::Links> gold;
  for (size_t i = 0; i < gold_lines.size(); ++i)
    gold.push_back(eval::parse_links(gold_lines[i], fmt::format("{}:{}", o.calibrate_path, i + 1),
                                     true, o.calibrate_flip));
  LoadedModel lm = load_model(o.model_path);
  const std::vector<CalibrationRow> rows = calibrate_alignment(
      *lm.model, lm.vocab, src, tgt, gold, o.a.t.max_input_pieces, o.a.t.batch_size);
  // The best rows (--calibrate-rows), then how many more there were.
  fmt::print("{:<4} {:<10} {:>5} {:>4} {:<9} {:<6} {:>8}  {}\n", "rank", "method", "layer",
             "head", "aggregate", "links", "diagonal", "AER (precision, recall), per cent");
  const size_t shown = std::min(rows.size(), static_cast<size_t>(o.calibrate_rows));
  for (size_t k = 0; k < shown; ++k) {
    const AlignmentSetting& st = rows[k].setting;
    const bool maps = reads_attention(st.method);  // saliency, occlusion: no layer or head
    const std::string head = st.head < 0 ? std::string("avg") : std::to_string(st.head);
    fmt::print("{:<4} {:<10} {:>5} {:>4} {:<9} {:<6} {:>8g}  {}\n", k + 1, name_of(st.method),
               maps ? std::to_string(st.layer) : std::string("-"), maps ? head : "-",
               name_of(st.aggregate), name_of(st.links.extraction), st.links.diagonal,
               rows[k].score.format());
  }
  if (shown < rows.size())
    fmt::print("({} more settings, none better; --calibrate-rows {} shows them all)\n",
               rows.size() - shown, rows.size());
  if (src.size() >= 2)
    fmt::print("held out (the best setting on the even-numbered pairs scored on the odd-numbered "
               "ones, and the other way round): {}\n",
               held_out_score(rows).format());
  if (o.save_calibrated.empty()) return 0;
  const AlignmentSetting& best = rows.front().setting;
  ModelFile file = load_model_file(o.model_path);
  const bool maps = reads_attention(best.method);
  // The layer and head of the best attention setting, also when a probe is best: what
  // --alignment-method prediction or shifted then reads (and serve shows).
  const CalibrationRow* attention_row = best_attention_row(rows);
  if (lm.model->config().arch == Arch::kTransformer && attention_row) {
    file.set_config("align_layer", std::to_string(attention_row->setting.layer));
    file.set_config("align_head", std::to_string(attention_row->setting.head));
  }
  file.set_config("align.method", std::string(name_of(best.method)));
  file.set_config("align.aggregate", std::string(name_of(best.aggregate)));
  file.set_config("align.links", std::string(name_of(best.links.extraction)));
  file.set_config("align.diagonal", fmt::format("{:g}", best.links.diagonal));
  save_model_file(o.save_calibrated, file);
  fmt::print(stderr,
             "attnmt align: wrote {}: aligns with {}method {}, aggregate {}, links {}, "
             "diagonal {:g} (AER {:.2f}% on these {} pairs)\n",
             o.save_calibrated,
             !maps ? std::string()
                   : fmt::format("layer {}, {}, ", best.layer,
                                 best.head < 0 ? std::string("heads averaged")
                                               : fmt::format("head {}", best.head)),
             name_of(best.method), name_of(best.aggregate), name_of(best.links.extraction),
             best.links.diagonal, 100 * rows.front().score.aer(), src.size());
  return 0;
}

}  // namespace

int run_align(int argc, char** argv) {
  std::optional<AlignCliOptions> parsed = parse(argc, argv);
  if (!parsed) return 0;
  AlignCliOptions& o = *parsed;
  if (!o.calibrate_path.empty()) return run_calibration(o);
  const bool svg = o.a.format == AlignFormat::kSvg;
  if (svg) {
    std::error_code ec;
    std::filesystem::create_directories(o.output, ec);
    if (ec || !std::filesystem::is_directory(o.output))
      fail("cannot make the folder '{}' for the SVG files: {}", o.output,
           ec ? ec.message() : "a file of that name exists");
  } else {
    check_outputs("align", {{"-o", o.output}},
                  {{"--src", o.a.src_path}, {"--tgt", o.a.tgt_path}, {"-m", o.model_path},
                   {"--reverse-model", o.reverse_path}});
  }
  set_threads(o.threads);
  use_precision(o.precision);
  // Each model aligns its own calibrated way (its file's align.* settings) unless the command
  // line says otherwise.
  TranslateOptions reverse_t = o.a.t;
  const AlignmentUse use =
      o.a.format == AlignFormat::kPharaoh ? AlignmentUse::kLinks : AlignmentUse::kWeights;
  LoadedModel lm = load_aligning_model(o.model_path, o.a.t, use);
  std::unique_ptr<LoadedModel> rm;
  ReverseAligner reverse;
  if (!o.reverse_path.empty()) {
    rm = std::make_unique<LoadedModel>(load_aligning_model(o.reverse_path, reverse_t, use));
    reverse = {rm->model.get(), &rm->vocab, o.symmetrize, reverse_t.method, reverse_t.aggregate,
               reverse_t.links};
  }
  std::unique_ptr<AtomicOutput> out;
  if (!svg) out = std::make_unique<AtomicOutput>(o.output);
  AlignStats stats = align_files(*lm.model, lm.vocab, o.a, out ? &out->stream() : nullptr,
                                 o.output, [](const std::string& path) { fmt::print("{}\n", path); },
                                 reverse);
  if (out) out->commit();
  warn_cut("align", stats.truncated, *lm.model, o.a.t.max_input_pieces);
  if (o.a.format == AlignFormat::kSvg)
    fmt::print(stderr, "attnmt align: wrote {} SVG file(s) for {} pair(s) in '{}'\n", stats.svg,
               stats.pairs, o.output);
  return 0;
}

}  // namespace attnmt::cli
