#include "models/config.h"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "models/registry.h"
#include "tensor/error.h"

namespace attnmt {

namespace {

std::string to_text(int x) { return std::to_string(x); }
std::string to_text(float x) { return fmt::format("{}", x); }
std::string to_text(bool x) { return x ? "true" : "false"; }
template <HasChoices E>
std::string to_text(E x) {
  return std::string(name_of(x));
}

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
  if (s == "true" || s == "1")
    out = true;
  else if (s == "false" || s == "0")
    out = false;
  else
    fail("model setting '{}' must be true or false, got '{}'", key, s);
}
template <HasChoices E>
void from_text(const std::string& key, const std::string& s, E& out) {
  out = parse_choice<E>(s, fmt::format("model setting '{}'", key));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ModelConfig::to_pairs() const {
  std::vector<std::pair<std::string, std::string>> kv;
  ModelConfig copy = *this;
  copy.for_each_setting(
      [&](const char* key, auto& field, const char*) { kv.emplace_back(key, to_text(field)); });
  return kv;
}

ModelConfig ModelConfig::from_pairs(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::map<std::string, std::string> m(kv.begin(), kv.end());
  ModelConfig c;
  c.for_each_setting([&](const char* key, auto& field, const char*) {
    auto it = m.find(key);
    if (it != m.end()) from_text(key, it->second, field);
  });
  return c;
}

void ModelConfig::validate(bool with_vocab) const {
  if (with_vocab) ATTNMT_CHECK(vocab_size > 4, "vocabulary size {} is too small", vocab_size);
  ATTNMT_CHECK(emb_dim > 0 && enc_layers > 0 && dec_layers > 0,
               "model sizes must be positive (emb-dim {}, enc-layers {}, dec-layers {})", emb_dim,
               enc_layers, dec_layers);
  // Far above any model a CPU trains, and low enough that a parameter count cannot overflow.
  constexpr int kMaxWidth = 1 << 20, kMaxLayers = 1024;
  for (int w : {emb_dim, enc_hidden, dec_hidden, ffn_dim, max_positions})
    ATTNMT_CHECK(w <= kMaxWidth,
                 "model widths and max-positions must be at most {} (emb-dim {}, enc-hidden {}, "
                 "dec-hidden {}, ffn-dim {}, max-positions {})",
                 kMaxWidth, emb_dim, enc_hidden, dec_hidden, ffn_dim, max_positions);
  ATTNMT_CHECK(enc_layers <= kMaxLayers && dec_layers <= kMaxLayers,
               "at most {} layers on each side (enc-layers {}, dec-layers {})", kMaxLayers,
               enc_layers, dec_layers);
  for (float p : {dropout, attention_dropout, ffn_dropout})
    ATTNMT_CHECK(std::isfinite(p) && p >= 0.0f && p < 1.0f,
                 "dropout probabilities must be in [0, 1), got {}", p);
  architecture(arch).validate(*this);
}

}  // namespace attnmt
