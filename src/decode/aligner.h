// The alignment pipeline behind `attnmt align`: the model's source-target attention for each
// line pair, either for given pairs (forced alignment: one teacher-forced pass, decode/forced.h)
// or for the model's own translations (beam search, decode/translator.h), written as Pharaoh
// pairs, soft matrices, JSON lines or one SVG heatmap per pair (decode/alignment.h).
// Not here: option parsing (cli/cmd_align.cpp), the formats themselves (alignment.h).
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include "decode/symmetrize.h"
#include "decode/translator.h"

namespace attnmt {

enum class AlignFormat { kPharaoh, kSoft, kJson, kSvg };
constexpr ChoiceTable<AlignFormat, 4> choices(AlignFormat) {
  using enum AlignFormat;
  return {"format", {{kPharaoh, "pharaoh"}, {kSoft, "soft"}, {kJson, "json"}, {kSvg, "svg"}}};
}

// The second model of `align --reverse-model`: trained target -> source, its word alignments
// flipped and combined with the first's by `how` (pharaoh format, word level, given pairs).
struct ReverseAligner {
  Seq2Seq* model = nullptr;
  const Vocab* vocab = nullptr;
  Symmetrize how = Symmetrize::kGrowDiagFinalAnd;
  // How this model's links are read (its own calibrated settings, alignment.h).
  AlignmentMethod method = AlignmentMethod::kPrediction;
  WordAggregate aggregate = WordAggregate::kSum;
  LinkRule links;
};

struct AlignOptions {
  std::string src_path, tgt_path;  // "-" reads stdin; tgt_path "" aligns the translations
  AlignFormat format = AlignFormat::kPharaoh;
  bool keep_eos = false;  // keep the </s> row and column
  int max_svg = 100;      // svg: at most this many pictures
  TranslateOptions t;     // search, batching, input cut and the alignment level
};

struct AlignStats {
  int64_t pairs = 0;      // line pairs read
  int64_t svg = 0;        // SVG files written
  int64_t truncated = 0;  // lines cut at input_cut(model, t.max_input_pieces) (either side)
};

// Aligns every pair. Text formats go to `out`, one line per pair (empty for an empty pair);
// svg writes NNNN.svg (the 1-based line number) atomically into `svg_dir` (which must exist)
// and tells `on_svg` each path. Throws attnmt::Error naming the files on a line-count mismatch.
AlignStats align_files(Seq2Seq& model, const Vocab& vocab, const AlignOptions& options,
                       std::ostream* out, const std::string& svg_dir = {},
                       const std::function<void(const std::string&)>& on_svg = {},
                       const ReverseAligner& reverse = {});

}  // namespace attnmt
