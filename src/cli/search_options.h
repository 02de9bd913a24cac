// The option groups that `translate` and `align` (and later `serve`) share, written once: the
// model and threads, the search (beam, length penalty, output length), the batching and input cut, and the alignment
// level. Defaults come from TranslateOptions; its validate() checks the values.
#pragma once

#include "cli/options.h"
#include "decode/translator.h"
#include "models/model_io.h"
#include "tensor/precision.h"

namespace attnmt::cli {

// --model (required), --threads, --precision and --max-memory: what every command that runs a
// model takes.
po::options_description model_options(std::string& model_path, int& threads,
                                      Precision& precision, std::string& max_memory);
// Resolves --precision for a command that translates, makes it the products' precision and
// returns it with the reason ("bf16 (auto: the CPU has AVX512-BF16)").
ResolvedPrecision use_precision(Precision requested);
// --beam --greedy --length-penalty --max-output-length --max-output-ratio --max-output-extra
po::options_description search_options(TranslateOptions& t);
// --batch-size --batch-tokens --max-input-length
po::options_description batch_options(TranslateOptions& t);
// --alignment-level --alignment-method --alignment-aggregate --alignment-layer --alignment-head
po::options_description alignment_level_option(TranslateOptions& t);
// Notes which alignment options the command line gave (after parse_options).
void note_given(const po::variables_map& vm, TranslateOptions& t);
// The model for translate, align and serve, with --alignment-layer / --alignment-head in place
// of the layer and head its file names (a Transformer's align_layer, align_head); where the
// command line gave no --alignment-method / --alignment-aggregate, the file's calibrated ones
// (align.method, align.aggregate) are taken into `t`.
// Where neither names a method, `use` chooses: hard word links (align --format pharaoh,
// translate --alignment hard) are read by occlusion, the most accurate aligner (issue 16's
// figures in docs/BENCHMARKS.md), and a note on stderr says so and what is faster; weight
// matrices and pictures show the attention itself (prediction).
enum class AlignmentUse { kWeights, kLinks };
LoadedModel load_aligning_model(const std::string& path, TranslateOptions& t,
                                AlignmentUse use = AlignmentUse::kWeights);

// The warning after a run that cut `n` (> 0) input lines: where, and which limit did it
// (--max-input-length, or the model's max_positions).
void warn_cut(const char* command, int64_t n, const Seq2Seq& model, int max_input_pieces);

}  // namespace attnmt::cli
