// The JSON API of attnmt serve (see api.h): reading requests, writing replies.
#include "serve/api.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "text/utf8.h"

namespace attnmt::serve {

using nlohmann::json;
using Reply = nlohmann::ordered_json;  // keys in the order written: readable replies

namespace {

[[noreturn]] void bad(const std::string& message) { throw ApiError(400, message); }

// The value of a choice field ("alignment": "hard"), by the enum's own name table.
template <typename E>
E read_choice(const json& j, const char* field) {
  if (!j.is_string()) bad(fmt::format("\"{}\" must be a string: {}", field, choice_list<E>()));
  const std::string name = j.get<std::string>();
  for (const auto& c : choices(E{}).names)
    if (name == c.name) return c.value;
  bad(fmt::format("\"{}\" is \"{}\"; it must be {}", field, name, choice_list<E>()));
}

int read_count(const json& j, const char* field, int max) {
  if (!j.is_number_integer())
    bad(fmt::format("\"{}\" must be a whole number from 1 to {}", field, max));
  const int64_t v = j.get<int64_t>();
  if (v < 1 || v > max) bad(fmt::format("\"{}\" is {}; it must be from 1 to {}", field, v, max));
  return static_cast<int>(v);
}

// One line of "text": UTF-8 text on one line, not empty, not over the byte limit.
void check_line(const std::string& line, size_t index, bool many, const ApiLimits& limits) {
  const std::string where = many ? fmt::format("text[{}]", index) : "text";
  if (const std::string problem = find_text_problem(line); !problem.empty())
    bad(fmt::format("{}: {}", where, problem));
  if (line.find_first_of("\n\r") != std::string::npos)
    bad(fmt::format("{} holds a line break: send one sentence per entry of \"text\"", where));
  if (line.find_first_not_of(" \t\f\v") == std::string::npos)
    bad(fmt::format("{} is empty: every entry of \"text\" needs a sentence", where));
  if (static_cast<int64_t>(line.size()) > limits.max_line_bytes)
    throw ApiError(413, fmt::format("{} has {} bytes; this server takes at most {} per line "
                                    "(attnmt serve --max-line-bytes)",
                                    where, line.size(), limits.max_line_bytes));
}

// Rounded to 4 decimals, so that the reply stays readable and small.
Reply weights_json(const std::vector<std::vector<float>>& w) {
  Reply rows = Reply::array();
  for (const auto& row : w) {
    Reply r = Reply::array();
    for (float v : row) r.push_back(std::round(static_cast<double>(v) * 1e4) / 1e4);
    rows.push_back(std::move(r));
  }
  return rows;
}

Reply map_json(const Alignment& a) {
  return {{"rows", a.tgt_tokens}, {"columns", a.src_tokens}, {"weights", weights_json(a.weights)}};
}

// A map at piece level and the same merged into words.
Reply levels_json(const Alignment& pieces) {
  return {{"piece", map_json(pieces)}, {"word", map_json(to_word_level(pieces))}};
}

// [layer][head] matrices with the given row and column tokens, each at both levels.
Reply layers_json(const std::vector<std::vector<Matrix>>& layers,
                 const std::vector<std::string>& rows, const std::vector<std::string>& columns) {
  Reply out = Reply::array();
  for (const auto& heads : layers) {
    Reply l = Reply::array();
    for (const Matrix& m : heads) l.push_back(levels_json(Alignment{columns, rows, m}));
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace

TranslateRequest parse_translate_request(std::string_view body, const ApiLimits& limits) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    const std::string what = e.what();
    if (what.find("UTF-8") != std::string::npos)
      bad(fmt::format("the body is not valid UTF-8 (at byte {}): send UTF-8 text", e.byte));
    bad(fmt::format("the body is not valid JSON ({})", what));
  }
  if (!j.is_object())
    bad("the body must be a JSON object such as {\"text\": [\"Hello.\"], \"beam\": 5}");
  TranslateRequest q;
  q.search = limits.defaults;
  q.level = limits.level;
  bool has_text = false;
  for (const auto& [key, v] : j.items()) {
    if (key == "text") {
      has_text = true;
      if (v.is_string()) {
        q.lines.push_back(v.get<std::string>());
      } else if (v.is_array()) {
        for (const json& line : v) {
          if (!line.is_string())
            bad(fmt::format("text[{}] must be a string", q.lines.size()));
          q.lines.push_back(line.get<std::string>());
        }
      } else {
        bad("\"text\" must be a string or an array of strings");
      }
    } else if (key == "beam") {
      q.search.beam = read_count(v, "beam", limits.max_beam);
      q.search.greedy = false;
    } else if (key == "n_best") {
      q.search.n_best = read_count(v, "n_best", limits.max_beam);
    } else if (key == "alignment") {
      q.alignment = read_choice<AlignmentOutput>(v, "alignment");
    } else if (key == "level") {
      q.level = read_choice<AlignmentLevel>(v, "level");
    } else if (key == "attention") {
      q.attention = read_choice<AttentionDetail>(v, "attention");
    } else {
      bad(fmt::format("unknown field \"{}\" (the fields are text, beam, n_best, alignment, level, "
                      "attention)",
                      key));
    }
  }
  if (!has_text) bad("\"text\" is missing: {\"text\": [\"a sentence\", ...]}");
  if (q.lines.empty()) bad("\"text\" is empty: give at least one sentence");
  if (static_cast<int>(q.lines.size()) > limits.max_lines)
    throw ApiError(413, fmt::format("\"text\" has {} lines; this server takes at most {} per "
                                    "request (attnmt serve --max-lines)",
                                    q.lines.size(), limits.max_lines));
  for (size_t i = 0; i < q.lines.size(); ++i)
    check_line(q.lines[i], i, j["text"].is_array(), limits);
  if (q.search.greedy && q.search.n_best > 1) q.search.greedy = false;  // n_best needs a beam
  q.search.beam = std::max(q.search.beam, q.search.n_best);
  return q;
}

Reply line_reply(const LineResult& r, const TranslateRequest& q, const ModelView& m) {
  const Vocab& vocab = *m.vocab;
  Reply out;
  if (r.hyps.empty()) {  // nothing the model could read (the line encoded to no pieces)
    out["translation"] = "";
    out["score"] = 0.0;
    out["source"] = {{"words", Reply::array()}, {"pieces", Reply::array()}};
    out["target"] = out["source"];
    out["truncated"] = r.truncated;
    return out;
  }
  const Hypothesis& best = r.hyps[0];
  const std::vector<std::string> tgt_pieces = vocab.pieces(best.tokens);
  // The alignment as `translate --alignment` writes it (EOS left out), at both levels: its
  // tokens are the words and pieces the indices count.
  const Alignment piece_level =
      hypothesis_alignment(vocab, r.src, best, false, m.method, false, &r.src_labels);
  const Alignment word_level = to_word_level(piece_level, m.aggregate);
  out["translation"] = vocab.decode(best.tokens);
  out["score"] = best.score;
  out["source"] = {{"words", word_level.src_tokens}, {"pieces", piece_level.src_tokens}};
  out["target"] = {{"words", word_level.tgt_tokens}, {"pieces", piece_level.tgt_tokens}};
  out["truncated"] = r.truncated;
  if (q.search.n_best > 1) {
    Reply list = Reply::array();
    for (const Hypothesis& h : r.hyps)
      list.push_back({{"translation", vocab.decode(h.tokens)}, {"score", h.score}});
    out["n_best"] = std::move(list);
  }
  if (q.alignment != AlignmentOutput::kNone) {
    const Alignment& a = q.level == AlignmentLevel::kWord ? word_level : piece_level;
    out["alignment_level"] = name_of(q.level);
    if (q.alignment == AlignmentOutput::kHard) {
      Reply pairs = Reply::array();
      for (const auto& [i, j] : hard_alignment(a, m.links)) pairs.push_back({i, j});
      out["alignment"] = std::move(pairs);
    } else {
      out["alignment"] = weights_json(a.weights);
    }
  }
  if (q.attention == AttentionDetail::kNone) return out;
  Reply attention;
  attention["alignment"] = levels_json(
      hypothesis_alignment(vocab, r.src, best, false, m.method, true, &r.src_labels));
  attention["alignment"]["layer"] = m.align_layer;
  attention["alignment"]["head"] = m.align_head;
  attention["alignment"]["method"] = name_of(m.method);
  if (q.attention == AttentionDetail::kAll && r.maps) {
    std::vector<std::string> src = r.src_labels, predicted = tgt_pieces, inputs = tgt_pieces;
    src.push_back(kEosToken);
    predicted.push_back(kEosToken);
    inputs.insert(inputs.begin(), "<s>");
    attention["source"] = layers_json(r.maps->source, predicted, src);
    attention["decoder"] = layers_json(r.maps->decoder, predicted, inputs);
    attention["encoder"] = layers_json(r.maps->encoder, src, src);
  }
  out["attention"] = std::move(attention);
  return out;
}

std::string error_body(int status, std::string_view message) {
  return json{{"error", {{"status", status}, {"message", message}}}}.dump();
}

}  // namespace attnmt::serve
