// The option groups that `translate` and `align` (and later `serve`) share, written once: the
// model and threads, the search (beam, length penalty, output length), the batching and input cut, and the alignment
// level. Defaults come from TranslateOptions; its validate() checks the values.
#pragma once

#include "cli/options.h"
#include "decode/translator.h"

namespace attnmt::cli {

// --model (required) and --threads: what every command that runs a model takes.
po::options_description model_options(std::string& model_path, int& threads);
// --beam --greedy --length-penalty --max-output-length --max-output-ratio --max-output-extra
po::options_description search_options(TranslateOptions& t);
// --batch-size --batch-tokens --max-input-length
po::options_description batch_options(TranslateOptions& t);
// --alignment-level
po::options_description alignment_level_option(TranslateOptions& t);

}  // namespace attnmt::cli
