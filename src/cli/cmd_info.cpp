// attnmt info MODEL: what a model file holds (architecture, sizes, vocabulary, how it was
// trained), its size on disk and how its tensors are stored (float32 / float16 / int8). Loading
// validates the whole file, so this is also a quick integrity check.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "models/model_summary.h"
#include "tensor/memory.h"

namespace attnmt::cli {

int run_info(int argc, char** argv) {
  std::string path;
  po::options_description desc("options");
  desc.add_options()("model,m", po::value(&path)->required(), "the model (or checkpoint) file");
  po::positional_options_description pos;
  pos.add("model", 1);
  CommandSpec spec{"info", "attnmt info MODEL",
                   "Describes a model file: architecture, parameter count, vocabulary size and "
                   "how it was trained,\nits size and how its tensors are stored (float32, "
                   "float16 or int8). The whole file is checked (checksum) on the way."};
  if (!parse_options(spec, desc, argc, argv, {.positional = &pos})) return 0;
  const ModelSummary s = summarize_model(load_model(path), path);
  fmt::print("model        {}\n", s.path);
  fmt::print("file size    {} bytes ({:.1f} MB)\n", s.file_bytes,
             static_cast<double>(s.file_bytes) / 1e6);
  fmt::print("storage      {}\n", s.storage);
  fmt::print("architecture {}\n", s.architecture);
  fmt::print("parameters   {}\n", s.parameters);
  fmt::print("vocabulary   {} pieces (joint SentencePiece, embeddings {})\n", s.vocab_size,
             s.tied_embeddings ? "tied" : "untied");
  fmt::print("precision    on this CPU ({}): --precision auto gives {}; int8 runs {}\n",
             s.cpu_isa, s.auto_precision, s.int8);
  const int64_t available = available_memory();
  if (available >= 0)
    fmt::print("memory       {} available here (the machine, or its container); tensors may "
               "take {} unless --max-memory says otherwise\n",
               format_bytes(available), format_bytes(default_tensor_memory_limit(available)));
  fmt::print("huge pages   {}\n", huge_pages_summary());
  fmt::print("\n[model]\n");
  for (const auto& [k, v] : s.settings) fmt::print("{} = {}\n", k, v);
  if (!s.training.empty()) fmt::print("\n[training]\n");
  for (const auto& [k, v] : s.training) fmt::print("{} = {}\n", k, v);
  return 0;
}

}  // namespace attnmt::cli
