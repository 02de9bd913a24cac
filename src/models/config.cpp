#include "models/config.h"

#include <fmt/format.h>

#include <functional>
#include <map>

#include "tensor/error.h"

namespace attnmt {

namespace {
// One table of fields drives both directions, so the two cannot drift apart.
template <typename Visitor>
void visit_fields(ModelConfig& c, Visitor&& v) {
  v("arch", c.arch);
  v("vocab_size", c.vocab_size);
  v("emb_dim", c.emb_dim);
  v("dropout", c.dropout);
  v("tie_embeddings", c.tie_embeddings);
  v("output_bias", c.output_bias);
  v("enc_layers", c.enc_layers);
  v("dec_layers", c.dec_layers);
  v("enc_hidden", c.enc_hidden);
  v("bidirectional", c.bidirectional);
  v("dec_hidden", c.dec_hidden);
  v("attention", c.attention);
  v("input_feeding", c.input_feeding);
  v("heads", c.heads);
  v("ffn_dim", c.ffn_dim);
  v("pre_norm", c.pre_norm);
  v("activation", c.activation);
  v("learned_positions", c.learned_positions);
  v("max_positions", c.max_positions);
  v("attention_dropout", c.attention_dropout);
  v("ffn_dropout", c.ffn_dropout);
  v("align_layer", c.align_layer);
  v("align_head", c.align_head);
}

std::string to_text(const std::string& s) { return s; }
std::string to_text(int x) { return std::to_string(x); }
std::string to_text(float x) { return fmt::format("{}", x); }
std::string to_text(bool x) { return x ? "true" : "false"; }

void from_text(const std::string& key, const std::string& s, std::string& out) { out = s; }
void from_text(const std::string& key, const std::string& s, int& out) {
  try {
    size_t n;
    out = std::stoi(s, &n);
    if (n != s.size()) throw std::invalid_argument(s);
  } catch (const std::exception&) {
    fail("model setting '{}' must be an integer, got '{}'", key, s);
  }
}
void from_text(const std::string& key, const std::string& s, float& out) {
  try {
    size_t n;
    out = std::stof(s, &n);
    if (n != s.size()) throw std::invalid_argument(s);
  } catch (const std::exception&) {
    fail("model setting '{}' must be a number, got '{}'", key, s);
  }
}
void from_text(const std::string& key, const std::string& s, bool& out) {
  if (s == "true" || s == "1") out = true;
  else if (s == "false" || s == "0") out = false;
  else fail("model setting '{}' must be true or false, got '{}'", key, s);
}
}  // namespace

std::vector<std::pair<std::string, std::string>> ModelConfig::to_pairs() const {
  std::vector<std::pair<std::string, std::string>> kv;
  ModelConfig copy = *this;
  visit_fields(copy, [&](const char* key, auto& field) { kv.emplace_back(key, to_text(field)); });
  return kv;
}

ModelConfig ModelConfig::from_pairs(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::map<std::string, std::string> m(kv.begin(), kv.end());
  ModelConfig c;
  visit_fields(c, [&](const char* key, auto& field) {
    auto it = m.find(key);
    if (it != m.end()) from_text(key, it->second, field);
  });
  return c;
}

void ModelConfig::validate() const {
  ATTNMT_CHECK(arch == "lstm" || arch == "transformer", "unknown arch '{}': use lstm or transformer",
               arch);
  ATTNMT_CHECK(vocab_size > 4, "vocabulary size {} is too small", vocab_size);
  ATTNMT_CHECK(emb_dim > 0 && enc_layers > 0 && dec_layers > 0, "model sizes must be positive");
  ATTNMT_CHECK(dropout >= 0.0f && dropout < 1.0f, "dropout must be in [0, 1), got {}", dropout);
  if (arch == "lstm") {
    ATTNMT_CHECK(attention == "dot" || attention == "general" || attention == "additive",
                 "unknown attention '{}': use dot, general or additive", attention);
    int mem = enc_hidden * (bidirectional ? 2 : 1);
    ATTNMT_CHECK(attention != "dot" || mem == dec_hidden,
                 "dot attention needs the encoder output width ({}) to equal dec_hidden ({})",
                 mem, dec_hidden);
  } else {
    ATTNMT_CHECK(heads > 0 && emb_dim % heads == 0, "emb_dim {} is not divisible by {} heads",
                 emb_dim, heads);
    ATTNMT_CHECK(activation == "relu" || activation == "gelu",
                 "unknown activation '{}': use relu or gelu", activation);
    ATTNMT_CHECK(align_layer < dec_layers && align_head < heads,
                 "align_layer/align_head out of range");
  }
}

}  // namespace attnmt
