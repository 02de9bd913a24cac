// The JSON API of attnmt serve without HTTP (serve/api.h): every rule of a request, and the
// shape of a reply, on hand-made hypotheses.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "serve/api.h"

namespace attnmt::serve {
namespace {

using nlohmann::json;

ApiLimits limits() {
  ApiLimits l;
  l.max_lines = 3;
  l.max_beam = 8;
  l.max_line_bytes = 40;
  l.defaults.beam = 4;
  return l;
}

// The status and message of a refused body.
std::pair<int, std::string> refusal(const std::string& body) {
  try {
    parse_translate_request(body, limits());
  } catch (const ApiError& e) {
    return {e.status, e.what()};
  }
  FAIL("accepted: " << body);
  return {0, ""};
}

}  // namespace

TEST_CASE("serve API: a request is read with the server's defaults where it is silent",
          "[serve]") {
  TranslateRequest q = parse_translate_request(R"({"text": ["a b", "c"]})", limits());
  CHECK(q.lines == std::vector<std::string>{"a b", "c"});
  CHECK(q.search.beam == 4);
  CHECK(q.search.n_best == 1);
  CHECK(q.alignment == AlignmentOutput::kNone);
  CHECK(q.attention == AttentionDetail::kNone);

  q = parse_translate_request(
      R"({"text": "one line", "beam": 2, "n_best": 3, "alignment": "soft", "level": "piece",
          "attention": "all"})",
      limits());
  CHECK(q.lines == std::vector<std::string>{"one line"});
  CHECK(q.search.n_best == 3);
  CHECK(q.search.beam == 3);  // raised to n_best, as translate does
  CHECK(q.alignment == AlignmentOutput::kSoft);
  CHECK(q.level == AlignmentLevel::kPiece);
  CHECK(q.attention == AttentionDetail::kAll);
}

TEST_CASE("serve API: every bad request gets its status and a message that says what is wrong",
          "[serve]") {
  struct Case {
    std::string body;
    int status;
    std::string says;
  };
  const std::string nested(100000, '[');
  const Case cases[] = {
      {"{\"text\": [\"a\"", 400, "not valid JSON"},
      {"", 400, "not valid JSON"},
      {nested, 400, "not valid JSON"},  // deep nesting: refused, no stack overflow
      {R"(["a"])", 400, "must be a JSON object"},
      {R"({"beam": 2})", 400, "\"text\" is missing"},
      {R"({"text": 5})", 400, "string or an array of strings"},
      {R"({"text": ["a", 7]})", 400, "text[1] must be a string"},
      {R"({"text": []})", 400, "\"text\" is empty"},
      {R"({"text": ["a", "  "]})", 400, "text[1] is empty"},
      {R"({"text": "a\nb"})", 400, "line break"},
      {R"({"text": "a\u0000b"})", 400, "NUL"},
      {"{\"text\": \"caf\xC3\"}", 400, "not valid UTF-8"},
      {"{\"text\": \"\xFF\xFE\"}", 400, "not valid UTF-8"},
      {R"({"text": ["a", "b", "c", "d"]})", 413, "at most 3 per request"},
      {R"({"text": "this line is longer than the forty bytes allowed"})", 413,
       "at most 40 per line"},
      {R"({"text": "a", "beam": 0})", 400, "\"beam\" is 0; it must be from 1 to 8"},
      {R"({"text": "a", "beam": 9})", 400, "from 1 to 8"},
      {R"({"text": "a", "beam": "5"})", 400, "\"beam\" must be a whole number"},
      {R"({"text": "a", "beam": 2.5})", 400, "\"beam\" must be a whole number"},
      {R"({"text": "a", "n_best": 100})", 400, "\"n_best\" is 100"},
      {R"({"text": "a", "alignment": "best"})", 400, "none, hard or soft"},
      {R"({"text": "a", "attention": true})", 400, "\"attention\" must be a string"},
      {R"({"text": "a", "level": "char"})", 400, "word or piece"},
      {R"({"text": "a", "beam_size": 5})", 400, "unknown field \"beam_size\""},
  };
  for (const Case& c : cases) {
    INFO(c.body.substr(0, 80));
    const auto [status, message] = refusal(c.body);
    CHECK(status == c.status);
    CHECK_THAT(message, Catch::Contains(c.says));
  }
}

TEST_CASE("serve API: an error body is JSON with the status and the message", "[serve]") {
  const json j = json::parse(error_body(413, "too \"big\""));
  CHECK(j["error"]["status"] == 413);
  CHECK(j["error"]["message"] == "too \"big\"");
}

}  // namespace attnmt::serve
