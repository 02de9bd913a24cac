// Rng: the seeded generator behind dropout, initialisation and shuffling. Its state can be
// saved and restored, so that a resumed training run draws the same numbers.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace attnmt {

class Rng {
 public:
  explicit Rng(uint64_t seed = 1) : engine_(seed) {}
  float uniform(float lo = 0.0f, float hi = 1.0f) {
    return std::uniform_real_distribution<float>(lo, hi)(engine_);
  }
  float normal(float mean = 0.0f, float stddev = 1.0f) {
    return std::normal_distribution<float>(mean, stddev)(engine_);
  }
  uint64_t next() { return engine_(); }
  std::mt19937_64& engine() { return engine_; }
  std::string state() const;           // text form of the engine state
  void set_state(const std::string& s);

 private:
  std::mt19937_64 engine_;
};

}  // namespace attnmt
