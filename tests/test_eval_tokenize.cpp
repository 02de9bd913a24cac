// eval/tokenize and eval/unicode: sacreBLEU's 13a, none and char tokenizers and the Python
// string behaviours they rely on. Expected outputs are worked out by hand from the mteval-v13a
// rules as sacreBLEU's tokenizer_13a.py / tokenizer_re.py state them (unescape, pad with spaces,
// split [{-~[-` -&(-+:-@/], split . and , unless next to a digit, split - after a digit,
// single-space) and from tokenizer_char.py (" ".join(chars)); sacreBLEU's test suite has no
// 13a-only cases, so its published BLEU numbers in test_eval_bleu.cpp check the tokenizer too.
#include <catch2/catch.hpp>

#include "eval/tokenize.h"
#include "eval/unicode.h"
#include "tensor/error.h"

using namespace attnmt::eval;

TEST_CASE("13a splits punctuation off words but keeps apostrophes and hyphens", "[eval]") {
  CHECK(tokenize_13a("I'm a student.") == "I'm a student .");
  CHECK(tokenize_13a("Hello, world!") == "Hello , world !");
  CHECK(tokenize_13a("well-known (really)?") == "well-known ( really ) ?");
  CHECK(tokenize_13a("a/b;c:d") == "a / b ; c : d");
  CHECK(tokenize_13a("The dog bit the man.") == "The dog bit the man .");
}

TEST_CASE("13a keeps periods and commas inside numbers and splits a dash after a digit", "[eval]") {
  CHECK(tokenize_13a("It costs $3.50, or 3,000 yen.") == "It costs $ 3.50 , or 3,000 yen .");
  // The padding space lets the final period after a digit be split off (unlike intl).
  CHECK(tokenize_13a("1.5.") == "1.5 .");
  CHECK(tokenize_13a("1990-2000") == "1990 - 2000");
  // Non-overlapping matches, left to right, as Python's re.sub: "a..b" -> a . . b
  CHECK(tokenize_13a("a..b") == "a . . b");
  CHECK(tokenize_13a("e.g. U.S.A.") == "e . g . U . S . A .");
}

TEST_CASE("13a unescapes mteval's entities and drops <skipped> and line breaks", "[eval]") {
  CHECK(tokenize_13a("&quot;Quoted&quot; &amp; &lt;tag&gt;") == "\" Quoted \" & < tag >");
  // Replacements run in order, so &amp;lt; becomes &lt; and then <.
  CHECK(tokenize_13a("&amp;lt;") == "<");
  CHECK(tokenize_13a("<skipped>word") == "word");
  CHECK(tokenize_13a("some-\nthing") == "something");
  CHECK(tokenize_13a("a\nb") == "a b");
}

TEST_CASE("13a single-spaces, trims and handles non-ASCII text", "[eval]") {
  CHECK(tokenize_13a("  a\tb   c  ") == "a b c");
  CHECK(tokenize_13a("") == "");
  CHECK(tokenize_13a("café.") == "café .");
  CHECK(tokenize_13a("Ça va, «bien»?") == "Ça va , «bien» ?");
  // U+3000 (ideographic space) is whitespace to Python's str.split().
  CHECK(tokenize_13a("日本\u3000語。") == "日本 語。");
}

TEST_CASE("the char tokenizer separates every code point, none keeps the line", "[eval]") {
  CHECK(tokenize_char("ab c") == "a b   c");
  CHECK(tokenize_char("日本語") == "日 本 語");
  CHECK(tokenize("a  b.", Tokenizer::kNone) == "a  b.");
  CHECK(tokenize("a.", Tokenizer::k13a) == "a .");
}

TEST_CASE("tokenizer names parse and an unknown one is refused with the choices", "[eval]") {
  CHECK(attnmt::parse_choice<Tokenizer>("13a") == Tokenizer::k13a);
  CHECK(attnmt::parse_choice<Tokenizer>("none") == Tokenizer::kNone);
  CHECK(attnmt::parse_choice<Tokenizer>("char") == Tokenizer::kChar);
  CHECK(attnmt::name_of(Tokenizer::kChar) == "char");
  CHECK_THROWS_WITH(attnmt::parse_choice<Tokenizer>("intl"), Catch::Contains("13a, none or char"));
}

TEST_CASE("Python-compatible whitespace split, rstrip and lower", "[eval]") {
  CHECK(split_whitespace(" a \u00a0b\u2003c\n") == std::vector<std::string>{"a", "b", "c"});
  CHECK(split_whitespace("   ").empty());
  CHECK(rstrip_whitespace("ab \t\u3000") == "ab");
  // As Python's str.lower(): a word-final sigma becomes ς, İ becomes i + U+0307.
  CHECK(to_lower("ABC ÀÉÎ ΣΑΣ Ωμέγα ДОМ") == "abc àéî σας ωμέγα дом");
  CHECK(to_lower("İ") == "i\u0307");
  CHECK(to_lower("ＡＢ") == "ａｂ");
}

TEST_CASE("UTF-8 decoding round-trips, invalid bytes included", "[eval]") {
  std::string text = "a\xC3\xA9\xE6\x97\xA5";  // "aé日"
  CHECK(decode_utf8(text) == U"a\u00e9\u65e5");
  CHECK(find_invalid_utf8(text) == std::string::npos);
  std::string bad = "ok\xFFz\xC3";
  CHECK(find_invalid_utf8(bad) == 2);
  CHECK(encode_utf8(decode_utf8(bad)) == bad);
  CHECK(decode_utf8(bad).size() == 5);
}
