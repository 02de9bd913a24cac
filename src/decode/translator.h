// The file-translation pipeline behind `attnmt translate` (and `attnmt align` without --tgt):
// lines streamed in windows, encoded with the model's vocabulary, sorted by length, cut into
// batches, searched (decode/search.h) and written back in input order, with optional n-best
// lists and alignments.
// Not here: the search itself (search.h), alignment formats (alignment.h), option parsing
// (cli/cmd_translate.cpp).
//
// Batching: within a window of `window` lines sorted by source length (longest first), a batch
// takes sentences while  sentences <= batch_size  and, when batch_tokens > 0,
//   sentences x longest source in the batch (pieces incl. EOS, i.e. with padding) x beam
//   <= batch_tokens
// (the decoder rows times the source positions each attends to). A single sentence over the
// budget still forms a batch of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "decode/alignment.h"
#include "decode/search.h"
#include "models/seq2seq.h"
#include "text/corpus.h"
#include "text/vocab.h"

namespace attnmt {

// What `translate --alignment` appends to each line.
enum class AlignmentOutput { kNone, kHard, kSoft };
constexpr ChoiceTable<AlignmentOutput, 3> choices(AlignmentOutput) {
  using enum AlignmentOutput;
  return {"alignment output", {{kNone, "none"}, {kHard, "hard"}, {kSoft, "soft"}}};
}

// How `translate`, `align` (and later `serve`) search and batch: one struct, one set of
// options (cli/search_options.h), one check.
struct TranslateOptions {
  SearchOptions search;
  int batch_size = 64;         // sentences per batch
  int64_t batch_tokens = 0;    // padded source positions x beam per batch (0 = no limit)
  int window = 1000;           // lines read, sorted and translated together
  int max_input_pieces = 250;  // longer inputs are cut (and counted)
  bool n_best_format = false;  // "INDEX ||| hypothesis ||| score" lines, n_best per input
  AlignmentOutput alignment = AlignmentOutput::kNone;
  AlignmentLevel level = AlignmentLevel::kWord;
  AlignmentMethod method = AlignmentMethod::kPrediction;
  WordAggregate aggregate = WordAggregate::kSum;  // a word's source pieces, at word level
  LinkRule links;                                 // how hard links are read (alignment.h)
  // Given on the command line: otherwise the model file's calibrated choice (align.method,
  // align.aggregate, align.links, align.diagonal, written by `align --save-calibrated`)
  // replaces the default.
  bool method_given = false, aggregate_given = false, links_given = false, diagonal_given = false;
  // The Transformer decoder layer and head whose attention aligns (-1: the last layer, the
  // heads' average); kModelsChoice keeps what the model file says (its align_layer, align_head).
  static constexpr int kModelsChoice = -2;
  int align_layer = kModelsChoice, align_head = kModelsChoice;
  bool progress = false;  // a lines/s line on stderr
  // Batches searched side by side, one thread each (as many as --threads), rather than one at
  // a time with every product split over the threads: more sentences a second on a file.
  bool workers = true;

  // Throws attnmt::Error naming the option (--beam, ...) of the first value out of range.
  void validate() const;
};

struct TranslateStats {
  int64_t lines = 0;       // input lines (= output lines without n-best)
  int64_t empty = 0;       // empty (or whitespace-only) lines, passed through as empty
  int64_t truncated = 0;   // sources cut at input_cut(model, max_input_pieces)
  int64_t src_pieces = 0;  // after cutting, EOS excluded
  int64_t tgt_pieces = 0;  // of the best hypotheses, EOS excluded
  double seconds = 0;      // reading, search and writing (model loading excluded)
};

// Translates already-encoded sources (pieces, no EOS; an empty one gets no hypothesis and is
// never fed to the model). Results in input order, n_best per sentence, best first.
// on_batch (optional) is told the number of sentences translated so far after each batch.
std::vector<std::vector<Hypothesis>> translate_ids(
    Seq2Seq& model, const std::vector<std::vector<int>>& src, const TranslateOptions& options,
    const std::function<void(int64_t)>& on_batch = {});

// A method that probes the model (saliency, occlusion: !reads_attention) replaces each
// hypothesis's attention by its matrix (decode/forced.h, forced_alignment, the hypothesis as the
// given target); the attention methods leave hyps as they are. src[i] is line i.
void use_probe(Seq2Seq& model, AlignmentMethod method, const std::vector<std::vector<int>>& src,
               std::vector<std::vector<Hypothesis>>& hyps);

// The alignment of one hypothesis: source pieces + "</s>" x hypothesis pieces + "</s>" with the
// attention rows, shifted by `method`; then EOS removed (unless keep_eos) and merged to words
// when word_level.
// Labels, when given (one per piece, from encode_window), replace the pieces' own strings, so
// that an unknown piece shows its text instead of "<unk>". `aggregate`: see to_word_level.
Alignment hypothesis_alignment(const Vocab& vocab, const std::vector<int>& src,
                               const Hypothesis& hyp, bool word_level,
                               AlignmentMethod method = AlignmentMethod::kPrediction,
                               bool keep_eos = false,
                               const std::vector<std::string>* src_labels = nullptr,
                               const std::vector<std::string>* tgt_labels = nullptr,
                               WordAggregate aggregate = WordAggregate::kSum);

// The output line(s) of one input line (no trailing newline; n-best gives several lines
// joined by '\n'). `index` is the 0-based input line number.
std::string format_translation(const Vocab& vocab, int64_t index, const std::vector<int>& src,
                               const std::vector<Hypothesis>& hyps,
                               const TranslateOptions& options);

// Streams `input_path` ("-" = stdin) to `out`, window by window. Throws attnmt::Error naming
// file:line on invalid UTF-8. Progress (if on) goes to stderr.
TranslateStats translate_file(Seq2Seq& model, const Vocab& vocab, const std::string& input_path,
                              std::ostream& out, const TranslateOptions& options);

// Where inputs are cut: --max-input-length, or lower where the model holds fewer positions (an
// input takes its pieces + EOS, a forced target BOS + its pieces). 0 = no cut.
int input_cut(const Seq2Seq& model, int max_input_pieces);

// Encodes a window of lines (in parallel), cutting each at max_pieces (0 = no cut).
// Exposed for `attnmt align`, which walks its inputs the same way.
struct EncodedWindow {
  std::vector<std::vector<int>> ids;             // [n][len] pieces, cut to max_input_pieces
  std::vector<std::vector<std::string>> labels;  // [n][len] what to show for each piece
  std::vector<char> cut;                         // [n] 1: this line was cut
  int64_t truncated = 0;
};
EncodedWindow encode_window(const Vocab& vocab, const std::vector<std::string>& lines,
                            int max_pieces);

}  // namespace attnmt
