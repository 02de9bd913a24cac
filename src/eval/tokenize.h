// sacreBLEU's tokenizers for BLEU: `13a` (mteval-v13a, sacreBLEU's default), `none` and `char`.
// Each turns one detokenized line into a string of space-separated tokens, exactly as sacreBLEU
// does, so that BLEU computed here matches sacreBLEU's.
// Not here: `intl` (it needs the Unicode categories P, S and N), `zh`, `ja-mecab`, `spm`;
// SentencePiece segmentation for the models lives in text/.
#pragma once

#include <string>
#include <string_view>

#include "tensor/choice.h"

namespace attnmt::eval {

enum class Tokenizer { k13a, kNone, kChar };
constexpr ChoiceTable<Tokenizer, 3> choices(Tokenizer) {
  using enum Tokenizer;
  return {"tokenizer", {{k13a, "13a"}, {kNone, "none"}, {kChar, "char"}}};
}

// mteval-v13a: unescapes &quot; &amp; &lt; &gt;, drops <skipped> and line breaks, splits off
// punctuation (keeping , and . inside numbers, and ' and - inside words), single-spaces.
std::string tokenize_13a(std::string_view line);
// Every character (code point) becomes a token.
std::string tokenize_char(std::string_view line);
// `none` returns the line unchanged (BLEU still splits it on whitespace).
std::string tokenize(std::string_view line, Tokenizer tokenizer);

}  // namespace attnmt::eval
