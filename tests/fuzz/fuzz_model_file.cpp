// Fuzz target: the model-file loader (io/model_file.h) and building a model from what it read
// (models/model_io.h). The first input byte chooses: bit 0 seals the rest with a valid size
// field and checksum (without it nearly every input stops at the checksum and the parser behind
// it is never reached); bit 1 also builds the model (config, vocabulary, every tensor).
#include "fuzz_helpers.h"
#include "io/model_file.h"
#include "models/model_io.h"
#include "tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) attnmt::fuzz::seal_model_bytes(bytes);
  try {
    attnmt::ModelFile file = attnmt::parse_model_file(bytes, "fuzz.attnmt");
    if (data[0] & 2) {
      attnmt::LoadedModel m = attnmt::model_from_file(std::move(file));
      FUZZ_REQUIRE(m.model != nullptr);
      FUZZ_REQUIRE(m.vocab.size() == m.model->config().vocab_size);
    }
  } catch (const attnmt::Error&) {
    // A refusal with a message: what a damaged file must get.
  }
  return 0;
}
