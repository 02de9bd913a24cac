#include "decode/aligner.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "decode/forced.h"
#include "io/atomic_file.h"
#include "tensor/error.h"

namespace attnmt {

namespace {

// Reads the next window of pairs (target empty when not forced); false at the end.
bool read_window(LineReader& src_in, LineReader* tgt_in, const AlignOptions& o,
                 std::vector<std::string>& src_lines, std::vector<std::string>& tgt_lines) {
  src_lines.clear(), tgt_lines.clear();
  std::string line;
  while (src_lines.size() < 1000 && src_in.next(line)) {
    src_lines.push_back(line);
    if (!tgt_in) continue;
    if (!tgt_in->next(line))
      fail(
          "source file '{}' has more lines than target file '{}' ({}): the files must be "
          "line-parallel",
          o.src_path, o.tgt_path, tgt_in->line_no());
    tgt_lines.push_back(line);
  }
  if (src_lines.empty() && tgt_in && tgt_in->next(line))
    fail(
        "target file '{}' has more lines than source file '{}' ({}): the files must be "
        "line-parallel",
        o.tgt_path, o.src_path, src_in.line_no());
  return !src_lines.empty();
}

// What the reverse model says of one given pair (its source = our target).
struct ReverseWords {
  LinkSet links;        // its word links, as (source word, target word) of ours
  WordWeights weights;  // for agree: its word matrix [our S][our T], its diagonal tension applied
};

std::vector<ReverseWords> reverse_words(const ReverseAligner& r, const AlignOptions& o,
                                        const std::vector<std::string>& src_lines,
                                        const std::vector<std::string>& tgt_lines) {
  const int cut = input_cut(*r.model, o.t.max_input_pieces);
  const EncodedWindow rsrc = encode_window(*r.vocab, tgt_lines, cut);
  const EncodedWindow rtgt = encode_window(*r.vocab, src_lines, cut);
  std::vector<Matrix> att =
      forced_alignment(*r.model, rsrc.ids, rtgt.ids, r.method, o.t.batch_size);
  std::vector<ReverseWords> out(src_lines.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (att[i].empty()) continue;
    Hypothesis h;
    h.tokens = rtgt.ids[i];
    h.attention = std::move(att[i]);
    const Alignment a = hypothesis_alignment(*r.vocab, rsrc.ids[i], h, /*word_level=*/true,
                                             r.method, false, &rsrc.labels[i], &rtgt.labels[i],
                                             r.aggregate);
    for (const auto& [their_src, their_tgt] : hard_alignment(a, r.links))
      out[i].links.insert({their_tgt, their_src});
    if (r.how == Symmetrize::kAgree) out[i].weights = diagonal_weighted(a, r.links.diagonal);
  }
  return out;
}

}  // namespace

AlignStats align_files(Seq2Seq& model, const Vocab& vocab, const AlignOptions& o, std::ostream* out,
                       const std::string& svg_dir,
                       const std::function<void(const std::string&)>& on_svg,
                       const ReverseAligner& reverse) {
  const bool forced = !o.tgt_path.empty();
  ATTNMT_CHECK(!reverse.model || (forced && o.format == AlignFormat::kPharaoh &&
                                  o.t.level == AlignmentLevel::kWord),
               "--reverse-model combines word links of given pairs: it needs --tgt, --format "
               "pharaoh and --alignment-level word");
  const bool word_level = o.t.level == AlignmentLevel::kWord;
  // Two files: their line counts are compared before anything is written (stdin cannot be
  // read twice: with it a mismatch shows where it is met).
  if (forced && o.src_path != "-" && o.tgt_path != "-") {
    const int64_t src_lines = count_lines(o.src_path, "source");
    const int64_t tgt_lines = count_lines(o.tgt_path, "target");
    if (src_lines != tgt_lines)
      fail("source file '{}' has {} lines but target file '{}' has {}: the files must be "
           "line-parallel",
           o.src_path, src_lines, o.tgt_path, tgt_lines);
  }
  LineReader src_in(o.src_path, "source");
  std::unique_ptr<LineReader> tgt_in;
  if (forced) tgt_in = std::make_unique<LineReader>(o.tgt_path, "target");
  AlignStats stats;
  const int cut = input_cut(model, o.t.max_input_pieces);
  std::vector<std::string> src_lines, tgt_lines;
  while (read_window(src_in, tgt_in.get(), o, src_lines, tgt_lines)) {
    EncodedWindow src = encode_window(vocab, src_lines, cut);
    stats.truncated += src.truncated;
    // The target side of each pair: given (forced), or the best translation.
    std::vector<Hypothesis> best(src_lines.size());
    std::vector<char> empty(src_lines.size(), 0);
    EncodedWindow tgt;
    std::vector<ReverseWords> reversed;  // with --reverse-model
    if (reverse.model) reversed = reverse_words(reverse, o, src_lines, tgt_lines);
    if (forced) {
      tgt = encode_window(vocab, tgt_lines, cut);
      stats.truncated += tgt.truncated;
      std::vector<Matrix> att =
          forced_alignment(model, src.ids, tgt.ids, o.t.method, o.t.batch_size);
      for (size_t i = 0; i < best.size(); ++i) {
        empty[i] = att[i].empty();
        best[i].tokens = tgt.ids[i];
        best[i].attention = std::move(att[i]);
      }
    } else {
      auto hyps = translate_ids(model, src.ids, o.t);
      use_probe(model, o.t.method, src.ids, hyps);
      for (size_t i = 0; i < best.size(); ++i) {
        empty[i] = hyps[i].empty();
        if (!empty[i]) best[i] = std::move(hyps[i][0]);
      }
    }
    for (size_t i = 0; i < best.size(); ++i) {
      const int64_t line_no = stats.pairs + static_cast<int64_t>(i) + 1;
      Alignment a;
      if (!empty[i])
        a = hypothesis_alignment(vocab, src.ids[i], best[i], word_level, o.t.method, o.keep_eos,
                                 &src.labels[i], forced ? &tgt.labels[i] : nullptr, o.t.aggregate);
      if (o.format == AlignFormat::kSvg) {
        if (empty[i] || stats.svg >= o.max_svg) continue;
        const std::string path =
            (std::filesystem::path(svg_dir) / fmt::format("{:04d}.svg", line_no)).string();
        const std::string svg = render_svg(a, fmt::format("line {}", line_no));
        write_file_atomic(path, [&](std::ostream& s) { s << svg; });
        if (on_svg) on_svg(path);
        ++stats.svg;
        continue;
      }
      std::ostream& s = *out;
      if (reverse.model) {
        LinkSet links;
        const WordWeights forward_weights =
            reverse.how == Symmetrize::kAgree && !empty[i]
                ? diagonal_weighted(a, o.t.links.diagonal) : WordWeights{};
        // The two matrices have the same words but where a long line was cut at different
        // pieces by the two vocabularies: that pair falls back to the links' intersection.
        const WordWeights& rw = reversed[i].weights;
        const bool agree = !forward_weights.empty() && !rw.empty() &&
                           rw.size() == forward_weights.front().size() &&
                           rw.front().size() == forward_weights.size();
        if (agree) {
          links = agreement_links(forward_weights, rw);
        } else {
          LinkSet forward;
          if (!empty[i])
            for (const auto& link : hard_alignment(a, o.t.links)) forward.insert(link);
          const bool fallback = reverse.how == Symmetrize::kAgree;
          links = symmetrize(forward, reversed[i].links,
                             fallback ? Symmetrize::kIntersect : reverse.how);
        }
        s << format_links(links) << '\n';
        continue;
      }
      if (o.format == AlignFormat::kPharaoh)
        s << format_pharaoh(a, o.t.links);
      else if (o.format == AlignFormat::kSoft)
        s << format_soft(a);
      else
        s << format_json(a, true, 4, o.t.links);
      s << '\n';
    }
    stats.pairs += static_cast<int64_t>(src_lines.size());
  }
  return stats;
}

}  // namespace attnmt
