// Alignment formats: word merging, EOS removal, Pharaoh, soft, JSON and the SVG heatmap.
#include <cmath>
#include <random>

#include "decode/alignment.h"
#include "decode/calibrate.h"
#include "io/json.h"
#include "helpers.h"
#include "tensor/error.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

// Source "▁ne w ▁york </s>", target "▁ニュー ヨーク ▁は </s>".
Alignment new_york() {
  Alignment a;
  a.src_tokens = {"\u2581ne", "w", "\u2581york", "</s>"};
  a.tgt_tokens = {"\u2581ニュー", "ヨーク", "\u2581は", "</s>"};
  a.weights = {{0.5f, 0.3f, 0.1f, 0.1f},
               {0.1f, 0.1f, 0.7f, 0.1f},
               {0.1f, 0.1f, 0.5f, 0.3f},
               {0.0f, 0.1f, 0.1f, 0.8f}};
  return a;
}

void check_rows(const std::vector<std::vector<float>>& w, const std::vector<std::vector<float>>& expected) {
  REQUIRE(w.size() == expected.size());
  for (size_t j = 0; j < w.size(); ++j) {
    REQUIRE(w[j].size() == expected[j].size());
    for (size_t i = 0; i < w[j].size(); ++i) {
      INFO("row " << j << " col " << i);
      CHECK(w[j][i] == Approx(expected[j][i]).margin(1e-6));
    }
  }
}

size_t count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t p = s.find(part); p != std::string::npos; p = s.find(part, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("word merging sums over source pieces and averages over target pieces", "[decode][align]") {
  Alignment w = to_word_level(new_york());
  CHECK(w.src_tokens == std::vector<std::string>{"new", "york", "</s>"});
  CHECK(w.tgt_tokens == std::vector<std::string>{"ニューヨーク", "は", "</s>"});
  // ニューヨーク: mean of rows 0 and 1 over [ne+w, york, </s>] = [(0.8+0.2)/2, (0.1+0.7)/2, 0.1].
  check_rows(w.weights, {{0.5f, 0.4f, 0.1f}, {0.2f, 0.5f, 0.3f}, {0.1f, 0.1f, 0.8f}});

  Alignment bare = without_eos(w);
  CHECK(bare.src_tokens == std::vector<std::string>{"new", "york"});
  CHECK(bare.tgt_tokens == std::vector<std::string>{"ニューヨーク", "は"});
  check_rows(bare.weights, {{0.5f / 0.9f, 0.4f / 0.9f}, {0.2f / 0.7f, 0.5f / 0.7f}});
  CHECK(format_pharaoh(bare) == "0-0 1-1");
  CHECK(format_pharaoh(new_york()) == "0-0 2-1 2-2 3-3");
}

TEST_CASE("word-level rows sum to 1 and there is one column per source word", "[decode][align]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int trial = 0; trial < 50; ++trial) {
    Alignment a;
    size_t S = 1 + rng() % 12, T = 1 + rng() % 12;
    size_t n_src_words = 0;
    for (size_t i = 0; i < S; ++i) {
      bool starts = i == 0 || rng() % 2;
      n_src_words += starts;
      a.src_tokens.push_back((starts ? "\u2581p" : "p") + std::to_string(i));
    }
    for (size_t j = 0; j < T; ++j) a.tgt_tokens.push_back((rng() % 3 ? "\u2581" : "") + std::string("t"));
    for (size_t j = 0; j < T; ++j) {
      std::vector<float> row(S);
      float sum = 0;
      for (float& v : row) sum += (v = u(rng));
      for (float& v : row) v /= sum;
      a.weights.push_back(row);
    }
    Alignment w = to_word_level(a);
    INFO("trial " << trial);
    CHECK(w.src_tokens.size() == n_src_words);
    for (const auto& row : w.weights) {
      CHECK(row.size() == n_src_words);
      double sum = 0;
      for (float v : row) sum += v;
      CHECK(sum == Approx(1.0).margin(1e-5));
    }
    for (auto [i, j] : hard_alignment(w)) {
      CHECK(i >= 0);
      CHECK(static_cast<size_t>(i) < w.src_tokens.size());
      CHECK(static_cast<size_t>(j) < w.tgt_tokens.size());
      for (float v : w.weights[j]) CHECK(v <= w.weights[j][i]);
    }
  }
}

TEST_CASE("EOS stays a word of its own and a bare boundary piece joins the next piece", "[decode][align]") {
  Alignment a;
  a.src_tokens = {"\u2581", "日本", "語", "</s>"};
  a.tgt_tokens = {"\u2581Japanese", "</s>"};
  a.weights = {{0.1f, 0.6f, 0.2f, 0.1f}, {0.0f, 0.0f, 0.0f, 1.0f}};
  Alignment w = to_word_level(a);
  CHECK(w.src_tokens == std::vector<std::string>{"日本語", "</s>"});
  check_rows(w.weights, {{0.9f, 0.1f}, {0.0f, 1.0f}});
  // All the mass of a row on </s>: removing it leaves a uniform row, still summing to 1.
  a.tgt_tokens = {"\u2581Japanese", "\u2581x"};
  Alignment b = without_eos(a);
  check_rows(b.weights, {{0.1f / 0.9f, 0.6f / 0.9f, 0.2f / 0.9f}, {1 / 3.0f, 1 / 3.0f, 1 / 3.0f}});
  CHECK(b.tgt_tokens.size() == 2);  // the last target token is not </s>: kept
}

TEST_CASE("Pharaoh ties go to the first source token, malformed matrices throw", "[decode][align]") {
  Alignment a{{"a", "b", "c"}, {"x", "y"}, {{0.4f, 0.4f, 0.2f}, {0.1f, 0.2f, 0.7f}}};
  CHECK(format_pharaoh(a) == "0-0 2-1");
  a.weights[1].pop_back();
  CHECK_THROWS_AS(format_pharaoh(a), Error);
  a.weights[1] = {0.1f, NAN, 0.2f};
  CHECK_THROWS_AS(to_word_level(a), Error);
  CHECK(format_pharaoh(Alignment{}) == "");
}

TEST_CASE("soft formats: one line with commas, and a matrix file", "[decode][align]") {
  Alignment a{{"a", "b"}, {"x", "y", "z"}, {{0.9f, 0.1f}, {0.25f, 0.75f}, {0.0f, 1.0f}}};
  CHECK(format_soft(a) == "0.900,0.100 0.250,0.750 0.000,1.000");
  CHECK(format_soft(a, 1) == "0.9,0.1 0.2,0.8 0.0,1.0");
  CHECK(format_soft_matrix(a, 2) == "0.90 0.10\n0.25 0.75\n0.00 1.00\n");
}

TEST_CASE("JSON output escapes quotes, backslashes, control characters and bad UTF-8", "[decode][align]") {
  CHECK(json_escape("a\"b\\c\nd\te\x01" "f\x1f") == "a\\\"b\\\\c\\nd\\te\\u0001f\\u001f");
  CHECK(json_escape("日本語 ▁") == "日本語 ▁");
  CHECK(json_escape("bad\xff" "end") == "bad\xEF\xBF\xBD" "end");
  CHECK(json_escape("\xE0\x80\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  Alignment a{{"say \"hi\"", "c:\\"}, {"言う"}, {{0.25f, 0.75f}}};
  CHECK(format_json(a) ==
        "{\"source\": [\"say \\\"hi\\\"\", \"c:\\\\\"], \"target\": [\"言う\"], "
        "\"alignment\": [[0.2500, 0.7500]]}");
  CHECK(format_json(a, true, 1) ==
        "{\"source\": [\"say \\\"hi\\\"\", \"c:\\\\\"], \"target\": [\"言う\"], "
        "\"alignment\": [[0.2, 0.8]], \"hard\": [[1, 0]]}");
}

TEST_CASE("XML escaping covers markup characters and characters XML forbids", "[decode][align]") {
  CHECK(xml_escape("<a & 'b' \"c\">") == "&lt;a &amp; &apos;b&apos; &quot;c&quot;&gt;");
  CHECK(xml_escape("x\x01y") == "x\xEF\xBF\xBDy");
  CHECK(is_wide_char(U'日'));
  CHECK(is_wide_char(U'ア'));
  CHECK_FALSE(is_wide_char(U'a'));
}

TEST_CASE("the SVG heatmap is well-formed XML with one rect per cell", "[decode][align]") {
  TempDir dir;
  Alignment a = new_york();
  a.src_tokens[1] = "<w&\"'>";  // markup in a label must be escaped
  a.tgt_tokens[1] = "bad\x01\xff";   // characters XML forbids, invalid UTF-8
  std::string svg = render_svg(a, "New York & <ニューヨーク>");
  CHECK(count(svg, "<rect class=\"cell\"") == a.src_tokens.size() * a.tgt_tokens.size());
  CHECK(svg.find("xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(svg.find("&lt;w&amp;&quot;&apos;&gt;") != std::string::npos);
  CHECK(svg.find("Noto Sans CJK JP") != std::string::npos);
  // The darkest cell (0.8) and the white one (0.0) use the ends of the scale.
  CHECK(svg.find("fill=\"#f7fbff\"") != std::string::npos);
  write_text(dir.file("a.svg"), svg);
  RunResult lint = run_shell("command -v xmllint >/dev/null || exit 77; xmllint --noout '" +
                             dir.file("a.svg") + "'");
  if (lint.exit_code == 77) {
    WARN("xmllint not installed: XML well-formedness not checked");
  } else {
    INFO(lint.err);
    CHECK(lint.exit_code == 0);
  }
  // Empty alignments still give a valid picture.
  std::string empty = render_svg(Alignment{}, "");
  CHECK(count(empty, "<rect class=\"cell\"") == 0);
  CHECK(empty.find("</svg>") != std::string::npos);
}

TEST_CASE("the SVG layout makes room for long and CJK labels", "[decode][align]") {
  // The x of the first cell is the width reserved for the target labels.
  auto first_cell_x = [](const Alignment& a) {
    std::string svg = render_svg(a, "t");
    size_t p = svg.find("<rect class=\"cell\" x=\"");
    REQUIRE(p != std::string::npos);
    return std::stod(svg.substr(p + 22));
  };
  Alignment a{{"a"}, {"abcd"}, {{1.0f}}};
  double ascii4 = first_cell_x(a);
  a.tgt_tokens = {"日本語だ"};
  double cjk4 = first_cell_x(a);
  a.tgt_tokens = {"abcdefghijklmnop"};
  double ascii16 = first_cell_x(a);
  CHECK(cjk4 > ascii4);  // four CJK characters are wider than four Latin ones
  CHECK(ascii16 > ascii4 + 12 * 13 * 0.5);
  CHECK(ascii4 > 4 * 13 * 0.5);  // at least half an em per character is reserved
}

TEST_CASE("the shifted method takes each row from the next step, the last keeps its own",
          "[decode][align]") {
  Alignment a;
  a.src_tokens = {"a", "b", "</s>"};
  a.tgt_tokens = {"x", "y", "</s>"};
  a.weights = {{0.8f, 0.1f, 0.1f}, {0.2f, 0.7f, 0.1f}, {0.0f, 0.1f, 0.9f}};
  const Alignment s = shift_to_inputs(a);
  CHECK(s.tgt_tokens == a.tgt_tokens);
  CHECK(s.weights[0] == a.weights[1]);
  CHECK(s.weights[1] == a.weights[2]);
  CHECK(s.weights[2] == a.weights[2]);
  CHECK(format_pharaoh(without_eos(s)) == "1-0 1-1");
  CHECK(format_pharaoh(without_eos(a)) == "0-0 1-1");
}

TEST_CASE("the diagonal tension moves a close call onto the diagonal, and only a close call",
          "[decode][align]") {
  Alignment a;
  a.src_tokens = {"a", "b"};
  a.tgt_tokens = {"x", "y"};
  a.weights = {{0.45f, 0.55f}, {0.05f, 0.95f}};
  // Row 0 sits at relative position 1/4: source 0 (also 1/4) keeps its weight, source 1 (3/4)
  // is scaled by exp(-8 x 1/2) before the row is renormalised.
  const auto w = diagonal_weighted(a, 8.0f);
  const double far = 0.55 * std::exp(-4.0);
  CHECK(w[0][0] == Approx(0.45 / (0.45 + far)).epsilon(1e-5));
  CHECK(w[0][1] == Approx(far / (0.45 + far)).epsilon(1e-5));
  CHECK(w[1][0] + w[1][1] == Approx(1.0f));
  CHECK(diagonal_weighted(a, 0.0f) == a.weights);
  CHECK(format_pharaoh(a) == "1-0 1-1");
  CHECK(format_pharaoh(a, {LinkExtraction::kTarget, 8.0f}) == "0-0 1-1");
  // 0.05 against 0.95 is not a close call: row 1 keeps its link on source 1 even at tension 2,
  // where row 0 already moves (0.45 against 0.55 e^-1).
  CHECK(format_pharaoh(a, {LinkExtraction::kTarget, 2.0f}) == "0-0 1-1");
  a.weights[1] = {0.95f, 0.05f};
  CHECK(format_pharaoh(a, {LinkExtraction::kTarget, 2.0f}) == "0-0 0-1");
}

TEST_CASE("grow links add a source word's best target word next to a link", "[decode][align]") {
  Alignment a;
  a.src_tokens = {"a", "b", "c", "d"};
  a.tgt_tokens = {"x", "y", "z"};
  // Rows' argmaxes: 0-0, 2-1, 2-2. Columns' argmaxes: 0-0, 1-0 (0.3 > 0.2 > 0.1), 2-1, 3-2.
  // Intersection 0-0 2-1. Growing: 1-0 neighbours 0-0 and source 1 has no link; 2-2
  // neighbours 2-1 and target 2 has none; 3-2 neighbours 2-1 and source 3 has none.
  a.weights = {{0.5f, 0.3f, 0.1f, 0.1f}, {0.1f, 0.2f, 0.6f, 0.1f}, {0.1f, 0.1f, 0.5f, 0.3f}};
  CHECK(format_pharaoh(a) == "0-0 2-1 2-2");
  CHECK(format_pharaoh(a, {LinkExtraction::kGrow, 0.0f}) == "0-0 1-0 2-1 2-2 3-2");
  // A column's best target that touches no link is not taken: 3-0 here (source 3 has no link,
  // but it neighbours none, and target 0 has one, so the final step leaves it out too).
  a.weights = {{0.5f, 0.1f, 0.1f, 0.3f}, {0.1f, 0.6f, 0.2f, 0.1f}, {0.1f, 0.1f, 0.6f, 0.2f}};
  CHECK(format_pharaoh(a, {LinkExtraction::kGrow, 0.0f}) == "0-0 1-1 2-2");
}

TEST_CASE("the held-out calibration score crosses the halves: chosen on one, scored on the other",
          "[decode][align]") {
  // Gold: one sure link per pair. Setting A finds it on the even-numbered pairs only, B on the
  // odd-numbered ones only, C on none; the table (sorted on all pairs) may rank them any way.
  auto row = [](bool even_right, bool odd_right) {
    CalibrationRow r;
    const eval::Links gold{{{0, 0}}, {{0, 0}}};
    const eval::Links right = gold, wrong{{{1, 0}}, {{1, 0}}};
    for (int i = 0; i < 4; ++i) {
      const eval::Links& proposed = (i % 2 == 0 ? even_right : odd_right) ? right : wrong;
      r.score.add(proposed, gold);
      r.halves[i % 2].add(proposed, gold);
    }
    return r;
  };
  const std::vector<CalibrationRow> rows = {row(false, false), row(true, false), row(false, true)};
  // Chosen on the even pairs: A (right there), scored on the odd ones: wrong. Chosen on the odd
  // pairs: B, scored on the even ones: wrong. Every held-out link is wrong: AER 100%.
  const eval::AerScore held = held_out_score(rows);
  CHECK(held.proposed == 4);
  CHECK(held.hit_sure == 0);
  CHECK(held.aer() == Approx(1.0));
  // A setting right everywhere is chosen on both halves (on the even ones it ties with A and
  // comes first in the table's order) and scores perfectly on both.
  const eval::AerScore perfect = held_out_score({row(true, true), row(true, false)});
  CHECK(perfect.hit_sure == 4);
  CHECK(perfect.aer() == Approx(0.0));
}

TEST_CASE("a calibrated model keeps the best attention row's layer and head when saliency wins",
          "[decode][align]") {
  auto row = [](AlignmentMethod method, int layer, int head) {
    CalibrationRow r;
    r.setting.method = method, r.setting.layer = layer, r.setting.head = head;
    return r;
  };
  using enum AlignmentMethod;
  const std::vector<CalibrationRow> rows = {row(kSaliency, -1, -1), row(kSaliency, -1, -1),
                                            row(kShifted, 2, 1), row(kPrediction, 1, -1)};
  const CalibrationRow* best = best_attention_row(rows);
  REQUIRE(best == &rows[2]);
  CHECK(best->setting.layer == 2);
  CHECK(best->setting.head == 1);
  CHECK(best_attention_row({row(kPrediction, 0, 0)})->setting.method == kPrediction);
  CHECK(best_attention_row({row(kSaliency, -1, -1)}) == nullptr);
  CHECK(best_attention_row({}) == nullptr);
}
