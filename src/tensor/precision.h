// Precision: the number format of the matrix products (--precision). Parameters, gradients,
// Adam's moments, softmax, layer norm and the output log-softmax are float32 in every mode;
// only the inputs of the GEMMs change:
//   fp32  float32 inputs (Eigen)
//   bf16  bfloat16 inputs, float32 accumulation and outputs (oneDNN; AMX or AVX512-BF16)
//   int8  weights quantised per output row, activations per row, int8 x int8 -> int32
//         products dequantised to float32 (oneDNN; VNNI, or AVX2 with 7-bit weights).
//         Translation only.
// `auto` is resolved once per command by resolve_precision(); the seam (gemm.h) then reads
// the process-wide setting made by set_precision(). Not here: the GEMM code (gemm.cpp,
// gemm_dnnl.cpp).
#pragma once

#include <string>

#include "tensor/choice.h"

namespace attnmt {

enum class Precision { kAuto, kFp32, kBf16, kInt8 };
constexpr ChoiceTable<Precision, 4> choices(Precision) {
  return {"precision",
          {{Precision::kAuto, "auto"},
           {Precision::kFp32, "fp32"},
           {Precision::kBf16, "bf16"},
           {Precision::kInt8, "int8"}}};
}

// What the CPU offers for low precision, as oneDNN sees it (ONEDNN_MAX_CPU_ISA can hide
// instructions: the tests use that to play a CPU without bf16).
struct CpuFeatures {
  bool amx_bf16 = false;     // AMX tiles with bf16
  bool avx512_bf16 = false;  // AVX512-BF16 dot products
  bool avx512_core = false;  // oneDNN can emulate bf16 here (slowly)
  bool vnni = false;         // AVX512-VNNI int8 dot products
  bool avx2 = false;         // int8 products run (AVX2 and up)
  std::string isa;           // oneDNN's name of the instruction set it uses, for messages
};
CpuFeatures cpu_features();

// The largest |q| of an int8 weight: 127 where the CPU adds int8 products exactly (VNNI), 63
// elsewhere. Without VNNI, oneDNN's int8 dot product (vpmaddubsw) adds each pair of u8 x s8
// products in int16 and saturates: 2 x 255 x 127 = 64770 overflows 32767, 2 x 255 x 63 =
// 32130 does not. (Measured on the Bible test with AVX2: 8-bit weights changed 490 of 1,023
// translations against float32, 7-bit ones 285.)
int int8_weight_levels(const CpuFeatures& cpu);

// How int8 runs on this CPU, for messages: "on AVX512-VNNI", "on AVX2 with 7-bit weights".
std::string int8_description(const CpuFeatures& cpu);

// Which products a command runs: training products are never int8.
enum class PrecisionUse { kTraining, kTranslation };

struct ResolvedPrecision {
  Precision precision = Precision::kFp32;  // never kAuto
  std::string why;                          // "bf16 (auto: the CPU has AVX512-BF16)"
};

// `auto` becomes bf16 where the CPU has AMX-BF16 or AVX512-BF16, fp32 elsewhere. An explicit
// bf16 on a CPU that cannot run it even emulated, or int8 for training or without AVX2, throws
// Error saying what to use instead.
ResolvedPrecision resolve_precision(Precision requested, PrecisionUse use,
                                    const CpuFeatures& cpu);

// The precision of every product from now on (process-wide; commands set it once at start).
// kAuto is not accepted here. The default is fp32.
void set_precision(Precision p);
Precision precision();

// Sets a precision for a scope and restores the previous one (tests, benchmarks).
class ScopedPrecision {
 public:
  explicit ScopedPrecision(Precision p) : saved_(precision()) { set_precision(p); }
  ~ScopedPrecision() { set_precision(saved_); }
  ScopedPrecision(const ScopedPrecision&) = delete;
  ScopedPrecision& operator=(const ScopedPrecision&) = delete;

 private:
  Precision saved_;
};

}  // namespace attnmt
