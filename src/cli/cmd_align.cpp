// attnmt align: exports the model's source-target attention as alignments, either for given
// sentence pairs (--tgt: forced alignment, one teacher-forced pass) or for the model's own
// translations (beam search). This file parses options and writes the files; the work is
// decode/forced.h, decode/translator.h and the formats decode/alignment.h.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/options.h"
#include "decode/forced.h"
#include "decode/translator.h"
#include "io/atomic_file.h"
#include "models/model_io.h"
#include "tensor/error.h"
#include "tensor/threads.h"

namespace attnmt::cli {

namespace {

enum class Format { kPharaoh, kSoft, kJson, kSvg };

struct AlignOptions {
  std::string model_path, src_path, tgt_path, output = "-";
  Format format = Format::kPharaoh;
  bool word_level = true, keep_eos = false;
  int max_svg = 100, threads = 0;
  TranslateOptions t;  // search and batching, for alignments of the model's own translations
};

const CommandSpec kSpec{
    "align",
    "attnmt align -m MODEL --src FILE [--tgt FILE] --format pharaoh|soft|json|svg"
    " [--level word|piece] [-o PATH] [--max-svg N] [--keep-eos] [--beam N]",
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
    "--level word (default, every format) merges SentencePiece pieces into the space-separated\n"
    "words of the (normalised) lines: source weights of a word add up, target rows average;\n"
    "piece keeps the pieces. The EOS row and column are left out unless --keep-eos.\n"
    "Example: attnmt align -m model.attnmt --src test.en --tgt test.ja --format svg -o svg/"};

std::optional<AlignOptions> parse(int argc, char** argv) {
  AlignOptions o;
  std::string format, level = "word";
  po::options_description desc("options");
  desc.add_options()("model,m", po::value(&o.model_path)->required(), "the model file")(
      "src", po::value(&o.src_path)->required(), "source lines")(
      "tgt", po::value(&o.tgt_path), "target lines, line-parallel (omit: align translations)")(
      "format", po::value(&format)->required(), "pharaoh, soft, json or svg")(
      "level", po::value(&level)->default_value("word"), "word or piece")(
      "output,o", po::value(&o.output)->default_value("-"),
      "output file (- = stdout); for svg a folder (required)")(
      "max-svg", po::value(&o.max_svg)->default_value(100), "svg: at most N pictures")(
      "keep-eos", po::bool_switch(&o.keep_eos), "keep the </s> row and column")(
      "beam,b", po::value(&o.t.search.beam)->default_value(5), "beam width (without --tgt)")(
      "length-penalty", po::value(&o.t.search.length_penalty)->default_value(1.0f, "1.0"),
      "A in logprob / len^A (without --tgt)")("max-length",
                                              po::value(&o.t.max_source_pieces)->default_value(250),
                                              "cut lines to N pieces (both sides)")(
      "batch-size", po::value(&o.t.batch_size)->default_value(32), "sentences per batch")(
      "threads", po::value(&o.threads)->default_value(0), "threads (0 = all cores)");
  auto vm = parse_options(kSpec, desc, argc, argv);
  if (!vm) return std::nullopt;
  auto usage_error = [&](const std::string& message) {
    throw UsageError(message, usage_text(kSpec, desc));
  };
  if (format == "pharaoh")
    o.format = Format::kPharaoh;
  else if (format == "soft")
    o.format = Format::kSoft;
  else if (format == "json")
    o.format = Format::kJson;
  else if (format == "svg")
    o.format = Format::kSvg;
  else
    usage_error(fmt::format("--format '{}': choose pharaoh, soft, json or svg", format));
  if (level != "word" && level != "piece")
    usage_error(fmt::format("--level '{}': choose word or piece", level));
  o.word_level = level == "word";
  if (o.format == Format::kSvg && is_stdout_path(o.output))
    usage_error("--format svg writes one file per pair: name a folder with -o");
  if (o.max_svg < 0) usage_error("--max-svg must not be negative");
  if (o.t.search.beam < 1 || o.t.search.beam > 100) usage_error("--beam must be between 1 and 100");
  if (o.t.batch_size < 1) usage_error("--batch-size must be at least 1");
  if (o.t.max_source_pieces < 1) usage_error("--max-length must be at least 1");
  return o;
}

}  // namespace

int run_align(int argc, char** argv) {
  std::optional<AlignOptions> parsed = parse(argc, argv);
  if (!parsed) return 0;
  const AlignOptions& o = *parsed;
  set_threads(o.threads);
  LoadedModel lm = load_model(o.model_path);
  const Vocab& vocab = lm.vocab;
  const bool forced = !o.tgt_path.empty();

  std::unique_ptr<AtomicOutput> out;
  std::filesystem::path svg_dir;
  if (o.format == Format::kSvg) {
    svg_dir = o.output;
    std::error_code ec;
    std::filesystem::create_directories(svg_dir, ec);
    if (ec || !std::filesystem::is_directory(svg_dir))
      fail("cannot make the folder '{}' for the SVG files: {}", o.output,
           ec ? ec.message() : "a file of that name exists");
  } else {
    out = std::make_unique<AtomicOutput>(o.output);
  }

  InputLines src_in(o.src_path);
  std::unique_ptr<InputLines> tgt_in;
  if (forced) tgt_in = std::make_unique<InputLines>(o.tgt_path);
  int64_t n_pairs = 0, n_svg = 0, truncated = 0;
  std::vector<std::string> src_lines, tgt_lines;
  std::string line;
  for (;;) {
    src_lines.clear(), tgt_lines.clear();
    while (src_lines.size() < 1000 && src_in.next(line)) {
      src_lines.push_back(line);
      if (!forced) continue;
      if (!tgt_in->next(line))
        fail(
            "source file '{}' has more lines than target file '{}' ({}): the files must be "
            "line-parallel",
            o.src_path, o.tgt_path, tgt_in->line_no());
      tgt_lines.push_back(line);
    }
    if (src_lines.empty()) {
      if (forced && tgt_in->next(line))
        fail(
            "target file '{}' has more lines than source file '{}' ({}): the files must be "
            "line-parallel",
            o.tgt_path, o.src_path, src_in.line_no());
      break;
    }
    EncodedWindow src = encode_window(vocab, src_lines, o.t.max_source_pieces);
    truncated += src.truncated;
    // The target side of each pair: given (forced), or the best translation.
    std::vector<Hypothesis> best(src_lines.size());
    std::vector<char> empty(src_lines.size(), 0);
    EncodedWindow tgt;
    if (forced) {
      tgt = encode_window(vocab, tgt_lines, o.t.max_source_pieces);
      truncated += tgt.truncated;
      std::vector<Matrix> att = forced_attention(*lm.model, src.ids, tgt.ids, o.t.batch_size);
      for (size_t i = 0; i < best.size(); ++i) {
        empty[i] = att[i].empty();
        best[i].tokens = tgt.ids[i];
        best[i].attention = std::move(att[i]);
      }
    } else {
      auto hyps = translate_ids(*lm.model, src.ids, o.t);
      for (size_t i = 0; i < best.size(); ++i) {
        empty[i] = hyps[i].empty();
        if (!empty[i]) best[i] = std::move(hyps[i][0]);
      }
    }
    for (size_t i = 0; i < best.size(); ++i) {
      const int64_t line_no = n_pairs + static_cast<int64_t>(i) + 1;
      Alignment a;
      if (!empty[i])
        a = hypothesis_alignment(vocab, src.ids[i], best[i], o.word_level, o.keep_eos,
                                 &src.labels[i], forced ? &tgt.labels[i] : nullptr);
      if (o.format == Format::kSvg) {
        if (empty[i] || n_svg >= o.max_svg) continue;
        const std::string path = (svg_dir / fmt::format("{:04d}.svg", line_no)).string();
        const std::string svg = render_svg(a, fmt::format("line {}", line_no));
        write_file_atomic(path, [&](std::ostream& s) { s << svg; });
        fmt::print("{}\n", path);
        ++n_svg;
        continue;
      }
      std::ostream& s = out->stream();
      if (o.format == Format::kPharaoh)
        s << format_pharaoh(a);
      else if (o.format == Format::kSoft)
        s << format_soft(a);
      else
        s << format_json(a, true);
      s << '\n';
    }
    n_pairs += static_cast<int64_t>(src_lines.size());
  }
  if (out) out->commit();
  if (truncated)
    fmt::print(stderr, "attnmt align: warning: {} line(s) longer than {} pieces were cut\n",
               truncated, o.t.max_source_pieces);
  if (o.format == Format::kSvg)
    fmt::print(stderr, "attnmt align: wrote {} SVG file(s) for {} pair(s) in '{}'\n", n_svg,
               n_pairs, o.output);
  return 0;
}

}  // namespace attnmt::cli
