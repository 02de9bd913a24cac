// Vocab: the SentencePiece model that turns text into piece ids and back, with the special ids
// fixed for the whole project, and train_vocab() behind `attnmt vocab`.
// Not here: reading or validating corpora (text/corpus.h), adding BOS/EOS or padding
// (text/batch.h), or the model-file format (io/), which stores serialized() bytes verbatim.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/choice.h"
#include "text/corpus.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace attnmt {

// Special ids, the same in every vocabulary attnmt trains or loads.
inline constexpr int kPadId = 0;
inline constexpr int kUnkId = 1;
inline constexpr int kBosId = 2;
inline constexpr int kEosId = 3;

// U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's word-boundary mark at the start of a piece.
inline constexpr std::string_view kWordMark = "\xE2\x96\x81";

// Cheap to copy: copies share one immutable processor (encode/decode are thread-safe).
class Vocab {
 public:
  Vocab() = default;  // empty; size() == 0. Use load() or from_serialized().

  // Loads a SentencePiece .model file; refuses one whose special ids differ from kPadId..kEosId.
  static Vocab load(const std::string& model_path);
  // From the model proto bytes (as embedded in an attnmt model file). `origin` names the
  // source in error messages.
  static Vocab from_serialized(const std::string& bytes,
                               const std::string& origin = "embedded vocabulary");
  std::string serialized() const;

  // Text -> piece ids, without BOS/EOS. The text is NFKC-normalised and its whitespace
  // collapsed by SentencePiece first; characters not covered become kUnkId.
  std::vector<int> encode(std::string_view text) const;
  // The same ids, and in `labels` what to show for each piece: the piece itself, except that an
  // unknown piece shows the text it stands for (e.g. "¿" rather than "<unk>").
  std::vector<int> encode(std::string_view text, std::vector<std::string>& labels) const;
  // Piece ids -> text; kPadId, kBosId and kEosId are dropped, kUnkId reads " ⁇ ".
  std::string decode(std::span<const int> ids) const;
  std::vector<std::string> pieces(std::span<const int> ids) const;
  std::string piece(int id) const;
  int size() const;
  bool empty() const { return !sp_; }

  // For each piece, the index of the word it belongs to: a word starts at every piece that
  // begins with U+2581 (and at piece 0). E.g. {"▁the", "▁cat", "s"} -> {0, 1, 1}.
  static std::vector<int> word_starts(const std::vector<std::string>& pieces);
  // The words those pieces spell, U+2581 removed: {"▁the", "▁cat", "s"} -> {"the", "cats"}.
  static std::vector<std::string> words(const std::vector<std::string>& pieces);

 private:
  static Vocab checked(std::shared_ptr<sentencepiece::SentencePieceProcessor> sp,
                       const std::string& origin);
  std::shared_ptr<const sentencepiece::SentencePieceProcessor> sp_;
};

// SentencePiece's segmentation models (the names are SentencePiece's own).
enum class PieceModel { kUnigram, kBpe };
constexpr ChoiceTable<PieceModel, 2> choices(PieceModel) {
  using enum PieceModel;
  return {"model type", {{kUnigram, "unigram"}, {kBpe, "bpe"}}};
}

struct VocabOptions {
  std::string src, tgt;  // parallel training files
  int size = 8000;       // pieces per vocabulary, specials included
  std::string prefix;    // writes PREFIX.model/.vocab, or PREFIX.{src,tgt}.model/.vocab
  PieceModel model_type = PieceModel::kUnigram;
  bool separate = false;  // false: one joint model over both sides
  double character_coverage = 0.9995;
  int64_t max_lines = 1000000;  // sample at most this many pairs (0 = all)
  uint64_t seed = 1;            // for that sample
  int threads = 0;              // SentencePiece trainer threads (<= 0: all cores)
  ReaderOptions reader;         // skip_bad_lines, max_words
  // For messages: how the command that calls train_vocab names `size` and the coverage.
  const char* size_option = "--size";
};

struct VocabResult {
  std::vector<std::string> written;  // the files written, .model first
  ReaderStats stats;                 // what the reader kept and skipped
  int64_t sentences = 0;             // pairs the trainer saw (after sampling)
  int pieces = 0;  // of the (first) model: may be below `size` when the corpus is small
};

// Trains through sentencepiece::SentencePieceTrainer with pad=0 unk=1 bos=2 eos=3 on the
// validated (and sampled) sentence pairs. Files appear only when training succeeded. `size` is
// an upper limit for the unigram model (SentencePiece's soft limit): a small corpus gives fewer
// pieces, which result.pieces says; a size too small for the corpus's characters, or too large
// for the other model types, fails saying which sizes fit.
VocabResult train_vocab(const VocabOptions& options);

}  // namespace attnmt
