// The JSON API of `attnmt serve`, without the HTTP: a request body in, checked and read into a
// TranslateRequest; translations, alignments and attention maps out, as the reply's JSON. Pure
// functions (no model, no sockets), so every rule here is tested directly.
// Not here: the batching of requests (serve/batcher.h), the routes and the server
// (serve/server.h). The API as users see it: README.md, "Serve".
//
// POST /v1/translate  {"text": "..." | ["...", ...], "beam": 5, "n_best": 1,
//                      "alignment": "none|hard|soft", "level": "word|piece",
//                      "attention": "none|alignment|all"}
// One result per line: translation, score, source and target words and pieces, the alignment
// (hard: [source, target] index pairs; soft: one row of source weights per target token; EOS
// left out, at `level`), and with "attention" the maps at word and piece level (EOS kept):
//   "alignment": the map the model aligns with (its alignment layer and head);
//   "all": also every layer and head of the source attention, and for a Transformer the
//          decoder's and the encoder's self-attention.
// A map is {"rows": [...], "columns": [...], "weights": [[...], ...]}, one row per row token
// summing to 1. Rows of decoder maps are the tokens the step predicts (y_1 ... y_n, "</s>");
// columns of the decoder's self-attention are its inputs ("<s>", y_1 ... y_n).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "decode/forced.h"
#include "decode/translator.h"
#include "text/vocab.h"

namespace attnmt::serve {

// A request the API refuses: the HTTP status and the message the reply carries.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

enum class AttentionDetail { kNone, kAlignment, kAll };
constexpr ChoiceTable<AttentionDetail, 3> choices(AttentionDetail) {
  using enum AttentionDetail;
  return {"attention", {{kNone, "none"}, {kAlignment, "alignment"}, {kAll, "all"}}};
}

// What the server allows and assumes where a request is silent.
struct ApiLimits {
  int max_lines = 64;          // lines per request (413 beyond)
  int max_beam = 16;           // beam and n_best per request (400 beyond)
  int max_line_bytes = 10000;  // bytes per line (413 beyond); longer pieces are cut, not refused
  SearchOptions defaults;      // the server's --beam, --length-penalty, ...
  AlignmentLevel level = AlignmentLevel::kWord;
};

struct TranslateRequest {
  std::vector<std::string> lines;
  SearchOptions search;
  AlignmentOutput alignment = AlignmentOutput::kNone;
  AlignmentLevel level = AlignmentLevel::kWord;
  AttentionDetail attention = AttentionDetail::kNone;
};

// Reads and checks a request body. Throws ApiError: 400 for invalid JSON, a wrong type, an
// unknown field or value, invalid UTF-8, an empty line or a line break inside one; 413 for
// too many lines or a line over max_line_bytes.
TranslateRequest parse_translate_request(std::string_view body, const ApiLimits& limits);

// One line's translation, everything the reply needs (the hypotheses of the search and, for
// "all", the maps of the best one).
struct LineResult {
  std::vector<int> src;                  // pieces after the cut, no EOS
  std::vector<std::string> src_labels;   // what to show for each piece
  bool truncated = false;                // the input was cut at the server's limit
  std::vector<Hypothesis> hyps;          // best first
  const PairAttention* maps = nullptr;   // with AttentionDetail::kAll
};

struct ModelView {  // what the reply says of the model
  const Vocab* vocab = nullptr;
  AlignmentMethod method = AlignmentMethod::kPrediction;
  WordAggregate aggregate = WordAggregate::kSum;  // of the "alignment" field at word level
  LinkRule links;                                 // how its hard links are read
  int align_layer = -1, align_head = -1;  // resolved: which map "alignment" is
};

// The reply of one line (an object of "results").
nlohmann::ordered_json line_reply(const LineResult& r, const TranslateRequest& request,
                          const ModelView& model);

// {"error": {"status": 400, "message": "..."}} as text.
std::string error_body(int status, std::string_view message);

}  // namespace attnmt::serve
