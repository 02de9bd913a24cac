// Inputs the fuzz targets found (tests/fuzz/regressions/<target>/): each once crashed or let an
// exception other than attnmt::Error escape; now each is refused with an attnmt::Error.
#include "fuzz/fuzz_helpers.h"
#include "helpers.h"
#include "models/model_io.h"
#include "tensor/error.h"

using namespace attnmt;
using namespace attnmt::testing;

TEST_CASE("model files the fuzzer found are refused with attnmt::Error", "[io][fuzz]") {
  const fs::path dir = fs::path(ATTNMT_SOURCE_DIR) / "tests/fuzz/regressions/fuzz_model_file";
  int n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    INFO(entry.path().filename().string());
    const std::string input = read_text(entry.path().string());
    REQUIRE(input.size() > 1);
    std::string bytes = input.substr(1);
    if (input[0] & 1) fuzz::seal_model_bytes(bytes);  // the target's mode byte
    CHECK_THROWS_AS(model_from_file(parse_model_file(bytes, "found.attnmt")), Error);
    ++n;
  }
  CHECK(n >= 1);
}
