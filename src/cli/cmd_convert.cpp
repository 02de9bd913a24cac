// attnmt convert -m IN -o OUT --dtype float16|float32|int8: rewrites a model file with another
// storage dtype for its tensors (float16 halves the file, int8 quarters its matrices). The
// config, the vocabulary and the tensor names and shapes are copied unchanged; only how the
// values are stored changes.
// Not here: the format itself (io/model_file.h).
#include <fmt/format.h>

#include <filesystem>

#include "cli/commands.h"
#include "cli/options.h"
#include "io/atomic_file.h"
#include "io/model_file.h"

namespace attnmt::cli {

namespace {
struct ConvertOptions {
  std::string input, output;
  TensorDtype dtype = TensorDtype::kFloat32;
};
}  // namespace

int run_convert(int argc, char** argv) {
  ConvertOptions o;
  po::options_description desc("options");
  desc.add_options()("model,m", po::value(&o.input)->required(), "the model file to read")(
      "output,o", po::value(&o.output)->required(),
      "the model file to write (may be the same path)")(
      "dtype", po::value(&o.dtype)->required(),
      with_choices<TensorDtype>("how to store the tensors").c_str());
  CommandSpec spec{"convert", "attnmt convert -m IN -o OUT --dtype float16|float32|int8",
                   "Rewrites a model file storing every tensor as float16 (half the size, about 3 "
                   "significant digits)\nor as float32, or every matrix as int8 with a float32 "
                   "scale per row (a quarter of the size;\nthe values translate --precision int8 "
                   "uses, so int8 translation is unchanged; vectors stay float32).\nLoading "
                   "always gives float32 values. A value beyond +-65504 cannot be float16 and is "
                   "refused.\nKeep training checkpoints (MODEL.ckpt) in float32: --resume is "
                   "bit-exact only then."};
  if (!parse_options(spec, desc, argc, argv)) return 0;
  const TensorDtype dtype = o.dtype;
  ModelFile file = load_model_file(o.input);  // validates the whole input first
  const auto input_bytes = std::filesystem::file_size(o.input);
  file.set_dtype_all(dtype);
  save_model_file(o.output, file);  // atomic: OUT is complete or untouched ("-": stdout)
  if (!is_stdout_path(o.output))
    fmt::print(stderr, "{}: {} tensors stored as {}, {} bytes (the input had {})\n", o.output,
               file.tensors.size(), name_of(dtype), std::filesystem::file_size(o.output),
               input_bytes);
  return 0;
}

}  // namespace attnmt::cli
