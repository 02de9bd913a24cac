// The SentencePiece vocabulary (text/vocab.h): special ids, round trips on the shared corpus,
// serialisation, and word grouping of pieces.
#include <fmt/format.h>

#include <fstream>
#include <memory>

#include "helpers.h"
#include "tensor/error.h"
#include "text/corpus.h"
#include "text/vocab.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

// One joint 4000-piece vocabulary on a 10k-pair sample of the shared training set, trained once
// for this file (about half a second).
const Vocab& shared_vocab(const std::string& dir) {
  static std::unique_ptr<TempDir> tmp;
  static Vocab vocab;
  if (vocab.empty()) {
    tmp = std::make_unique<TempDir>("text-vocab");
    VocabOptions o;
    o.src = dir + "/train.en";
    o.tgt = dir + "/train.ja";
    o.size = 4000;
    o.max_lines = 10000;
    o.prefix = tmp->file("enja");
    o.threads = 2;
    VocabResult r = train_vocab(o);
    REQUIRE(r.written.size() == 2);
    REQUIRE(r.sentences == 10000);
    vocab = Vocab::load(tmp->file("enja.model"));
  }
  return vocab;
}

// What SentencePiece's default normaliser (nmt_nfkc) does to text made only of characters that
// NFKC leaves alone: whitespace runs collapse to one space, leading/trailing space goes.
std::string collapse_spaces(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// NFKC on the fullwidth ASCII variants U+FF01..U+FF5E is exactly "subtract 0xFEE0" (１ -> 1,
// ？ -> ?): apply that one rule so lines with fullwidth digits can be compared too.
std::string fold_fullwidth_ascii(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b == 0xEF && i + 2 < s.size()) {
      unsigned cp = ((b & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
      if (cp >= 0xFF01 && cp <= 0xFF5E) {
        out += static_cast<char>(cp - 0xFEE0);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// True when the line holds a character NFKC may rewrite: the fullwidth/halfwidth forms
// (U+FF00..U+FFEF), the ideographic space U+3000, or anything in the compatibility blocks
// U+2000..U+2BFF, U+3300..U+33FF, U+F900..U+FAFF. Such lines are not compared byte for byte.
bool may_change_under_nfkc(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    if (len == 3) {
      unsigned cp = ((b & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
      if ((cp >= 0xFF00 && cp <= 0xFFEF) || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x2BFF) ||
          (cp >= 0x3300 && cp <= 0x33FF) || (cp >= 0xF900 && cp <= 0xFAFF))
        return true;
    }
    i += len;
  }
  return false;
}

}  // namespace

TEST_CASE("decode(encode(x)) reproduces every dev line in both languages", "[text][vocab]") {
  REQUIRE_SHARED_ENJA(dir);
  const Vocab& v = shared_vocab(dir);
  REQUIRE(v.size() == 4000);
  for (const char* lang : {"en", "ja"}) {
    LineReader reader(dir + "/dev." + lang);
    std::string line;
    int64_t no = 0;
    int compared = 0, with_unknown = 0, compat = 0;
    while (reader.next(line, no)) {
      std::vector<int> ids = v.encode(line);
      // Characters outside the vocabulary read back as " ⁇ ": not a round trip by design.
      if (std::find(ids.begin(), ids.end(), kUnkId) != ids.end()) {
        ++with_unknown;
        continue;
      }
      std::string folded = fold_fullwidth_ascii(line);
      if (may_change_under_nfkc(folded)) {
        ++compat;
        continue;
      }
      INFO(lang << " dev line " << no);
      CHECK(v.decode(ids) == collapse_spaces(folded));
      ++compared;
    }
    INFO(lang << ": " << with_unknown << " lines with unknown pieces, " << compat
              << " with NFKC-sensitive characters");
    CHECK(no == 500);
    CHECK(compared >= 450);  // nearly every line is checked, not skipped
  }
}

TEST_CASE("special ids are fixed and decode drops them", "[text][vocab]") {
  REQUIRE_SHARED_ENJA(dir);
  const Vocab& v = shared_vocab(dir);
  CHECK(v.piece(kPadId) == "<pad>");
  CHECK(v.piece(kUnkId) == "<unk>");
  CHECK(v.piece(kBosId) == "<s>");
  CHECK(v.piece(kEosId) == "</s>");
  std::vector<int> ids = v.encode("i like green tea .");
  REQUIRE(!ids.empty());
  for (int id : ids) CHECK(id > kEosId);  // encode adds no specials
  std::vector<int> wrapped = {kBosId};
  wrapped.insert(wrapped.end(), ids.begin(), ids.end());
  wrapped.insert(wrapped.end(), {kEosId, kPadId, kPadId});
  CHECK(v.decode(wrapped) == "i like green tea .");
  CHECK_THROWS_AS(v.piece(v.size()), Error);
  CHECK_THROWS_AS(v.decode(std::vector<int>{-1}), Error);
}

TEST_CASE("a vocabulary survives serialisation byte for byte", "[text][vocab]") {
  REQUIRE_SHARED_ENJA(dir);
  const Vocab& v = shared_vocab(dir);
  std::string bytes = v.serialized();
  Vocab copy = Vocab::from_serialized(bytes);
  CHECK(copy.serialized() == bytes);
  CHECK(copy.size() == v.size());
  std::string text = "私 は テニス 部員 で す 。";
  CHECK(copy.encode(text) == v.encode(text));
  CHECK(copy.pieces(copy.encode(text)) == v.pieces(v.encode(text)));
}

TEST_CASE("loading something that is not a vocabulary is a clear error", "[text][vocab]") {
  TempDir dir("text");
  write_text(dir.file("junk.model"), "this is not a protobuf");
  try {
    Vocab::load(dir.file("junk.model"));
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find(dir.file("junk.model")) != std::string::npos);
  }
  CHECK_THROWS_AS(Vocab::load(dir.file("absent.model")), Error);
  CHECK_THROWS_AS(Vocab::from_serialized("garbage"), Error);
  CHECK_THROWS_AS(Vocab().encode("x"), Error);
}

TEST_CASE("word_starts and words group pieces at U+2581", "[text][vocab]") {
  const std::string m = "\xE2\x96\x81";  // ▁
  std::vector<std::string> pieces = {m + "the", m + "cat", "s", m + "sat", m,
                                     "。",      m + "a",   "b", "c"};
  CHECK(Vocab::word_starts(pieces) == std::vector<int>{0, 1, 1, 2, 3, 3, 4, 4, 4});
  CHECK(Vocab::words(pieces) == std::vector<std::string>{"the", "cats", "sat", "。", "abc"});
  // A first piece without the mark still starts word 0.
  CHECK(Vocab::word_starts({"ab", m + "c"}) == std::vector<int>{0, 1});
  CHECK(Vocab::words({"ab", "c"}) == std::vector<std::string>{"abc"});
  CHECK(Vocab::word_starts({}).empty());
  CHECK(Vocab::words({}).empty());
}

TEST_CASE("words of encoded text are the text's words", "[text][vocab]") {
  REQUIRE_SHARED_ENJA(dir);
  const Vocab& v = shared_vocab(dir);
  std::string text = "many animals have been destroyed by men .";
  auto words = Vocab::words(v.pieces(v.encode(text)));
  CHECK(words ==
        std::vector<std::string>{"many", "animals", "have", "been", "destroyed", "by", "men", "."});
}

TEST_CASE("labels show an unknown piece's own text, other pieces as they are", "[text][vocab]") {
  REQUIRE_SHARED_ENJA(dir);
  const Vocab& v = shared_vocab(dir);
  std::string text = "the cat \xE2\x99\x9E sat";  // U+265E (a chess knight): not in the corpus
  std::vector<std::string> labels;
  std::vector<int> ids = v.encode(text, labels);
  CHECK(ids == v.encode(text));
  REQUIRE(labels.size() == ids.size());
  int unknown = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    INFO("piece " << i);
    if (ids[i] == kUnkId) {
      ++unknown;
      CHECK(labels[i] == "\xE2\x99\x9E");
    } else {
      CHECK(labels[i] == v.piece(ids[i]));
    }
  }
  CHECK(unknown == 1);
  // grouped into words, the labels spell the text's words again
  CHECK(Vocab::words(labels) == std::vector<std::string>{"the", "cat", "\xE2\x99\x9E", "sat"});
}
