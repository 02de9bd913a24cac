// Alignments as users see them: the pure functions that turn a model's soft attention matrix
// into word-level alignments, standard text formats and an SVG heatmap.
// Not here: extracting the matrix from a model (the decoder records one attention row per
// target step) or choosing which outputs to write (cli/cmd_align.cpp, cli/cmd_translate.cpp).
//
// Matrix convention everywhere: weights[j][i] is how much target token j attends to source
// token i; T rows (target, usually ending with "</s>"), S columns (source, usually ending
// with "</s>"); each row is a probability distribution (sums to 1).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tensor/choice.h"
#include "text/utf8.h"  // xml_escape, used with these formats

namespace attnmt {

inline constexpr const char* kEosToken = "</s>";
inline constexpr const char* kWordBoundary = "\xE2\x96\x81";  // U+2581, SentencePiece's space mark

// Between what an alignment links: the space-separated words of the lines, or the pieces.
enum class AlignmentLevel { kWord, kPiece };
constexpr ChoiceTable<AlignmentLevel, 2> choices(AlignmentLevel) {
  using enum AlignmentLevel;
  return {"alignment level", {{kWord, "word"}, {kPiece, "piece"}}};
}

// Which decoder step's attention aligns a target token. prediction: the step that predicts it
// (what the decoder attended to when it chose the token). shifted: the step where it is the
// decoder's input, one later (Chen et al. 2020, "Accurate Word Alignment Induction from Neural
// Machine Translation": the attention of that step looks at the token's source). saliency: not
// the attention but the gradient, how much each source piece's embedding moves the token's
// log-probability (after Ding et al. 2019, "Saliency-driven Word Alignment Interpretation for
// Neural Machine Translation"; decode/forced.h, forced_saliency): a backward pass per target
// token, so slower. occlusion: how much each target token's log-probability falls when one
// source piece is hidden (replaced by <unk>), the "prediction difference" of Li et al.
// 2019, "On the Word Alignment from Neural Machine Translation" (forced_occlusion): a forward
// pass per source piece.
enum class AlignmentMethod { kPrediction, kShifted, kSaliency, kOcclusion };
constexpr ChoiceTable<AlignmentMethod, 4> choices(AlignmentMethod) {
  using enum AlignmentMethod;
  return {"alignment method",
          {{kPrediction, "prediction"},
           {kShifted, "shifted"},
           {kSaliency, "saliency"},
           {kOcclusion, "occlusion"}}};
}
// prediction and shifted read the attention maps (a layer and a head); saliency and occlusion
// probe the model with extra passes over the given pair (no layer or head).
constexpr bool reads_attention(AlignmentMethod m) {
  return m == AlignmentMethod::kPrediction || m == AlignmentMethod::kShifted;
}

// How the weights of a word's source pieces make the word's weight (word level): their sum (the
// attention mass on the word), their mean, or their largest.
enum class WordAggregate { kSum, kMean, kMax };
constexpr ChoiceTable<WordAggregate, 3> choices(WordAggregate) {
  using enum WordAggregate;
  return {"word aggregate", {{kSum, "sum"}, {kMean, "mean"}, {kMax, "max"}}};
}

struct Alignment {
  std::vector<std::string> src_tokens;      // [S] pieces (or words)
  std::vector<std::string> tgt_tokens;      // [T]
  std::vector<std::vector<float>> weights;  // [T][S], rows sum to 1
};

// Throws attnmt::Error unless weights is [tgt_tokens.size()][src_tokens.size()] and finite.
void check_alignment(const Alignment& a);

// Word level: SentencePiece pieces merge into words; a word starts at a piece beginning with
// "▁" (U+2581). The first piece always starts a word, and "</s>", "<s>" are words of their own.
// Weights are summed over the source pieces of a word (attention mass adds up; or their mean or
// max, `source`), averaged over the target pieces of a word (each piece is one distribution),
// then each row is renormalised to sum to 1. Token strings become the words without "▁" (a
// word that is only "▁" keeps it).
Alignment to_word_level(const Alignment& pieces, WordAggregate source = WordAggregate::kSum);

// The shifted method on a piece-level alignment whose last row is "</s>": row j takes row j + 1
// (the step where token j is the decoder's input); the last row keeps its own (no step follows
// it). Tokens are unchanged.
Alignment shift_to_inputs(const Alignment& a);

// Drops the last target row and the source columns whose token is "</s>", if present, and
// renormalises each row; a row whose whole mass was on "</s>" becomes uniform (documented
// choice: it still sums to 1, and says "no preference").
Alignment without_eos(const Alignment& a);

// How hard links are read from the soft matrix. target: each target token j linked to
// argmax_i weights[j][i] (one link per target token, the shape of fast_align's links). grow: those
// links and each source token's argmax target token, combined by grow-diag-final-and
// (symmetrize.h): both directions read from the one matrix (words of a phrase can share links).
enum class LinkExtraction { kTarget, kGrow };
constexpr ChoiceTable<LinkExtraction, 2> choices(LinkExtraction) {
  using enum LinkExtraction;
  return {"link extraction", {{kTarget, "target"}, {kGrow, "grow"}}};
}

struct LinkRule {
  LinkExtraction extraction = LinkExtraction::kTarget;
  // Diagonal tension (fast_align's prior, Dyer et al. 2013): links are read from
  //   weights[j][i] * exp(-diagonal * |(i + 1/2) / S - (j + 1/2) / T|), each row renormalised,
  // which favours source positions near the target's relative position. 0: the weights as they
  // are. The soft formats always show the weights as they are.
  float diagonal = 0;
};

// The weights that hard links are read from under `diagonal` (a copy, rows renormalised).
std::vector<std::vector<float>> diagonal_weighted(const Alignment& a, float diagonal);

// Hard alignment (ties: the smallest index). Pairs are (source i, target j), sorted by target
// index, then source index. Rows with no columns give no pair.
std::vector<std::pair<int, int>> hard_alignment(const Alignment& a, const LinkRule& rule = {});

// Pharaoh / Moses / fast_align format: "i-j" pairs (0-based source-target), space-separated,
// sorted by target index j (the order fast_align writes). Example: "0-0 2-1 1-2".
std::string format_pharaoh(const Alignment& a, const LinkRule& rule = {});

// Soft alignment on one line (to append after " ||| " in translate output), the convention of
// Marian's --alignment soft: target rows separated by a space, the S weights of a row
// separated by commas, each weight with `decimals` digits. Example: "0.900,0.100 0.200,0.800".
std::string format_soft(const Alignment& a, int decimals = 3);
// The same matrix for files: one line per target token, S weights separated by spaces
// (numpy.loadtxt reads it), every line ending with '\n'.
std::string format_soft_matrix(const Alignment& a, int decimals = 4);

// One JSON object on one line (JSON Lines friendly), no trailing newline:
//   {"source": ["a", ...], "target": [...], "alignment": [[w, ...], ...]}
// plus "hard": [[i, j], ...] when with_hard. Strings are JSON-escaped (quotes, backslashes,
// control characters as \uXXXX) and invalid UTF-8 is replaced by U+FFFD.
std::string format_json(const Alignment& a, bool with_hard = false, int decimals = 4,
                        const LinkRule& rule = {});

// A standalone SVG 1.1 heatmap: one cell per (target row, source column) coloured from white
// (0) to dark blue (1), source tokens along the top (rotated), target tokens down the left, a
// colour bar labelled 0 and 1, and the title. Each cell is `<rect class="cell" ...>` with a
// <title> tooltip giving the pair and the weight. Sized from the label widths (CJK counted
// wide); fonts cover Japanese. Defined in alignment_svg.cpp.
std::string render_svg(const Alignment& a, const std::string& title);

// ---- Text helpers shared by the formats (alignment.cpp) ----

// True for code points drawn about one em wide (CJK, kana, hangul, full-width forms).
bool is_wide_char(char32_t cp);

}  // namespace attnmt
