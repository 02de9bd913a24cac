// Fuzz target: the INI config reader of `attnmt train --config` (cli/options.cpp and the
// train options, with their checks) and the model-file config reader (ModelConfig::from_pairs
// on the same text's key=value lines). A bad file must end in a usage error or attnmt::Error.
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "fuzz_helpers.h"
#include "models/config.h"
#include "tensor/error.h"
#include "train/options.h"

using namespace attnmt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string path = fuzz::write_temp("preset.ini", text);
  const char* args[] = {"train", "--config", path.c_str(), "--src", "a.en",
                        "--tgt",  "a.de",     "-o",         "m.bin"};
  try {
    std::optional<TrainOptions> o = cli::parse_train_options(9, const_cast<char**>(args));
    if (o) o->validate();  // parse_train_options checked it already: it must hold
  } catch (const cli::UsageError&) {
  } catch (const Error&) {
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) pairs.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  try {
    ModelConfig c = ModelConfig::from_pairs(pairs);
    c.validate();
  } catch (const Error&) {
  }
  return 0;
}
