// attnmt score: scores a translation file against one or more reference files with BLEU and
// chrF, printing sacreBLEU's lines ("BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = ...)", "chrF2 =
// 59.73") or, with --json, one JSON array. This file only reads and checks the files; the
// metrics are eval/bleu.h and eval/chrf.h, which the trainer's validation calls too.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "eval/aer.h"
#include "eval/bleu.h"
#include "eval/chrf.h"
#include "text/corpus.h"
#include "io/json.h"
#include "tensor/error.h"

namespace attnmt::cli {

namespace {

enum class Metric { kBleu, kChrf };
constexpr ChoiceTable<Metric, 2> choices(Metric) {
  return {"metric", {{Metric::kBleu, "bleu"}, {Metric::kChrf, "chrf"}}};
}

struct ScoreOptions {
  std::string hyp_path;
  std::vector<std::string> ref_paths;
  std::vector<Metric> metrics;  // in the order given
  eval::Tokenizer tokenize = eval::Tokenizer::k13a;
  bool lowercase = false;
  int chrf_word_order = 0;
  int width = 2;
  bool json = false;
  bool alignments = false;  // the files are Pharaoh word alignments: AER, not BLEU/chrF
  bool flip = false;        // --alignments: swap each hypothesis link's sides first
};

const CommandSpec kSpec{
    "score",
    "attnmt score --hyp FILE --ref FILE [FILE ...] [--metric bleu,chrf] [--tokenize 13a|none|char]"
    " [--lowercase] [--json]",
    "Scores a detokenized translation file against one or more reference files (one sentence\n"
    "a line, UTF-8, line-parallel) with corpus BLEU and chrF, computed as sacreBLEU 2.x does\n"
    "with its defaults (13a tokenization, exp smoothing; chrF2 on characters 1..6). Several\n"
    "--ref files give several references per line; an empty reference line is skipped.\n"
    "Example: attnmt score --hyp out.en --ref test.en\n\n"
    "With --alignments the files are Pharaoh word alignments instead (attnmt align --format\n"
    "pharaoh): the hypothesis's 'i-j' links against gold with sure 'i-j' and possible 'i?j'\n"
    "links, scored by alignment error rate, precision and recall (Och & Ney 2003). --flip\n"
    "swaps the hypothesis's sides first (a model of the other direction).\n"
    "Example: attnmt score --alignments --hyp de-en.align --ref gold.align"};

// The file's lines without their '\n' or "\r\n"; a missing final newline is fine. Refuses a
// file it cannot open or that is not UTF-8, naming the file and the line.
// nullopt when --help was printed.
std::optional<ScoreOptions> parse(int argc, char** argv) {
  ScoreOptions o;
  std::vector<std::string> metric_args;
  po::options_description desc("options");
  desc.add_options()("hyp,i", po::value(&o.hyp_path)->required(),
                     "the translations (hypotheses), one a line")(
      "ref,r", po::value(&o.ref_paths)->multitoken()->composing()->required(),
      "reference file(s), line-parallel with --hyp")(
      "metric,m", po::value(&metric_args)->multitoken()->composing(),
      "metrics, comma- or space-separated: bleu, chrf (default: bleu,chrf)")(
      "tokenize,t", value_of(&o.tokenize),
      with_choices<eval::Tokenizer>(
          "BLEU tokenizer (char for Japanese or Chinese without a segmenter)")
          .c_str())(
      "lowercase", po::bool_switch(&o.lowercase), "case-insensitive scores")(
      "chrf-word-order", value_of(&o.chrf_word_order),
      "word n-gram order of chrF (2 gives chrF++)")(
      "width,w", value_of(&o.width), "decimals of the printed scores")(
      "json", po::bool_switch(&o.json), "print a JSON array, one object per metric")(
      "alignments", po::bool_switch(&o.alignments),
      "the files are Pharaoh alignments: print AER, precision and recall against the gold "
      "--ref (sure i-j, possible i?j)")(
      "flip", po::bool_switch(&o.flip), "--alignments: swap the sides of the hypothesis links");
  auto vm = parse_options(kSpec, desc, argc, argv);
  if (!vm) return std::nullopt;

  auto usage_error = [&](const std::string& message) {
    throw UsageError(message, usage_text(kSpec, desc));
  };
  if (o.alignments && !metric_args.empty())
    usage_error("--alignments scores word alignments (AER); --metric is for translations");
  if (o.alignments && o.ref_paths.size() != 1)
    usage_error("--alignments takes one gold --ref file");
  if (o.flip && !o.alignments) usage_error("--flip is for --alignments");
  if (metric_args.empty()) metric_args = {"bleu,chrf"};
  for (const auto& arg : metric_args) {
    std::stringstream parts(arg);
    for (std::string name; std::getline(parts, name, ',');) {
      if (name.empty()) continue;
      Metric m{};
      check_usage(kSpec, desc, [&] { m = parse_choice<Metric>(name); });
      if (std::find(o.metrics.begin(), o.metrics.end(), m) == o.metrics.end())
        o.metrics.push_back(m);
    }
  }
  if (o.metrics.empty()) usage_error("--metric names no metric: choose bleu, chrf or both");
  if (o.width < 0 || o.width > 10) usage_error("--width must be between 0 and 10");
  if (o.chrf_word_order < 0 || o.chrf_word_order > 10)
    usage_error("--chrf-word-order must be between 0 and 10");
  return o;
}

// sacreBLEU's "nrefs": the number of references per line, or "var" when it varies.
std::string count_refs(const std::vector<std::vector<std::string>>& refs, std::size_t n_lines) {
  std::size_t first = 0;
  for (std::size_t line = 0; line < n_lines; ++line) {
    std::size_t n = 0;
    for (const auto& stream : refs) n += !stream[line].empty();
    if (line == 0) first = n;
    if (n != first) return "var";
  }
  return std::to_string(n_lines ? first : refs.size());
}


// --alignments: AER of the hypothesis links against the gold file's sure and possible links.
int score_alignments(const ScoreOptions& o) {
  const std::vector<std::string> hyps = read_lines(o.hyp_path, "hypothesis alignment");
  const std::vector<std::string> gold = read_lines(o.ref_paths[0], "gold alignment");
  if (hyps.size() != gold.size())
    fail("alignment file '{}' has {} lines but gold file '{}' has {}: the files must be "
         "line-parallel (one sentence pair a line)",
         o.hyp_path, hyps.size(), o.ref_paths[0], gold.size());
  eval::AerScore score;
  for (std::size_t line = 0; line < hyps.size(); ++line)
    score.add(eval::parse_links(hyps[line], fmt::format("{}:{}", o.hyp_path, line + 1),
                                /*allow_possible=*/false, o.flip),
              eval::parse_links(gold[line], fmt::format("{}:{}", o.ref_paths[0], line + 1),
                                /*allow_possible=*/true));
  if (o.json)
    fmt::print("[\n {{\"name\": \"AER\", \"score\": {:.{}f}, \"precision\": {:.{}f}, "
               "\"recall\": {:.{}f}, \"proposed\": {}, \"sure\": {}, \"possible\": {}, "
               "\"flip\": {}}}\n]\n",
               100 * score.aer(), o.width, 100 * score.precision(), o.width,
               100 * score.recall(), o.width, score.proposed, score.sure, score.possible,
               o.flip ? "true" : "false");
  else
    fmt::print("{}\n", score.format(o.width));
  return 0;
}

}  // namespace

int run_score(int argc, char** argv) {
  std::optional<ScoreOptions> parsed = parse(argc, argv);
  if (!parsed) return 0;
  const ScoreOptions& o = *parsed;
  if (o.alignments) return score_alignments(o);

  std::vector<std::string> hyps = read_lines(o.hyp_path, "hypothesis");
  std::vector<std::vector<std::string>> refs;
  for (const auto& path : o.ref_paths) {
    refs.push_back(read_lines(path, "reference"));
    if (refs.back().size() != hyps.size())
      fail(
          "hypothesis file '{}' has {} lines but reference file '{}' has {}: the files must "
          "be line-parallel (one translation per reference line)",
          o.hyp_path, hyps.size(), path, refs.back().size());
  }
  for (std::size_t line = 0; line < hyps.size(); ++line) {
    bool any = false;
    for (const auto& stream : refs) any |= !stream[line].empty();
    if (!any)
      fail("line {}: the reference is empty in {}: every hypothesis needs a reference", line + 1,
           o.ref_paths.size() == 1 ? fmt::format("'{}'", o.ref_paths[0])
                                   : std::string("every reference file"));
  }

  std::string nrefs = count_refs(refs, hyps.size());
  std::string case_sig = o.lowercase ? "lc" : "mixed";
  std::vector<std::string> lines, objects;
  for (const auto& metric : o.metrics) {
    if (metric == Metric::kBleu) {
      eval::BleuOptions bo;
      bo.tokenize = o.tokenize;
      bo.lowercase = o.lowercase;
      auto s = eval::corpus_bleu(hyps, refs, bo);
      lines.push_back(s.format(o.width));
      std::string verbose = s.format(o.width);
      verbose = verbose.substr(verbose.find(' ', std::string("BLEU = ").size()) + 1);
      std::string precisions;
      for (std::size_t i = 0; i < s.precisions.size(); ++i)
        precisions += fmt::format("{}{:.4f}", i ? ", " : "", s.precisions[i]);
      objects.push_back(fmt::format(
          "{{\"name\": \"BLEU\", \"score\": {:.{}f}, \"signature\": {}, \"verbose_score\": {}, "
          "\"precisions\": [{}], \"bp\": {:.6f}, \"ratio\": {:.6f}, \"hyp_len\": {}, "
          "\"ref_len\": {}}}",
          s.score, o.width,
          json_string(fmt::format("nrefs:{}|case:{}|eff:no|tok:{}|smooth:exp", nrefs, case_sig,
                                  name_of(o.tokenize))),
          json_string(verbose), precisions, s.bp, s.ratio, s.hyp_len, s.ref_len));
    } else {
      eval::ChrfOptions co;
      co.lowercase = o.lowercase;
      co.word_order = o.chrf_word_order;
      auto s = eval::corpus_chrf(hyps, refs, co);
      lines.push_back(s.format(o.width));
      objects.push_back(
          fmt::format("{{\"name\": {}, \"score\": {:.{}f}, \"signature\": {}}}",
                      json_string(s.name()), s.score, o.width,
                      json_string(fmt::format("nrefs:{}|case:{}|eff:yes|nc:{}|nw:{}|space:no",
                                              nrefs, case_sig, co.char_order, co.word_order))));
    }
  }

  if (o.json) {
    fmt::print("[\n");
    for (std::size_t i = 0; i < objects.size(); ++i)
      fmt::print(" {}{}\n", objects[i], i + 1 < objects.size() ? "," : "");
    fmt::print("]\n");
  } else {
    for (const auto& line : lines) fmt::print("{}\n", line);
  }
  return 0;
}

}  // namespace attnmt::cli
