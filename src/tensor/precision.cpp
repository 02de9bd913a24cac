#include "tensor/precision.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <atomic>

#include "tensor/error.h"

namespace attnmt {

namespace {
std::atomic<Precision> g_precision{Precision::kFp32};

bool has_all(dnnl::cpu_isa isa, dnnl_cpu_isa_t bits) {
  return (static_cast<unsigned>(isa) & static_cast<unsigned>(bits)) ==
         static_cast<unsigned>(bits);
}
}  // namespace

CpuFeatures cpu_features() {
  CpuFeatures f;
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  f.amx_bf16 = has_all(isa, dnnl_cpu_isa_avx512_core_amx);
  f.avx512_bf16 = has_all(isa, dnnl_cpu_isa_avx512_core_bf16);
  f.vnni = has_all(isa, dnnl_cpu_isa_avx512_core_vnni);
  f.avx512_core = has_all(isa, dnnl_cpu_isa_avx512_core);
  f.avx2 = has_all(isa, dnnl_cpu_isa_avx2);
  f.isa = f.amx_bf16      ? "AMX-BF16"
          : f.avx512_bf16 ? "AVX512-BF16"
          : f.vnni        ? "AVX512-VNNI"
          : f.avx512_core ? "AVX-512"
          : f.avx2        ? "AVX2"
                          : "no AVX2";
  return f;
}

int int8_weight_levels(const CpuFeatures& cpu) { return cpu.vnni ? 127 : 63; }

std::string int8_description(const CpuFeatures& cpu) {
  if (!cpu.avx2) return "not available (no AVX2)";
  if (cpu.vnni) return "on AVX512-VNNI";
  return fmt::format("on {} with 7-bit weights (no VNNI)", cpu.isa);
}

ResolvedPrecision resolve_precision(Precision requested, PrecisionUse use,
                                    const CpuFeatures& cpu) {
  const bool native_bf16 = cpu.amx_bf16 || cpu.avx512_bf16;
  switch (requested) {
    case Precision::kAuto:
      if (native_bf16)
        return {Precision::kBf16,
                fmt::format("bf16 (auto: the CPU has {})", cpu.amx_bf16 ? "AMX-BF16" : "AVX512-BF16")};
      return {Precision::kFp32, fmt::format("fp32 (auto: the CPU has no bf16 instructions; {})", cpu.isa)};
    case Precision::kFp32:
      return {Precision::kFp32, "fp32 (as asked)"};
    case Precision::kBf16:
      if (native_bf16) return {Precision::kBf16, fmt::format("bf16 (as asked; {})", cpu.isa)};
      if (cpu.avx512_core)
        return {Precision::kBf16,
                "bf16 (as asked; emulated with AVX-512: slower than fp32 on this CPU, use "
                "--precision fp32)"};
      fail("--precision bf16: this CPU has no AVX-512, which oneDNN needs for bf16; use "
           "--precision fp32");
    case Precision::kInt8:
      if (use == PrecisionUse::kTraining)
        fail("--precision int8 is for translate and align only (training needs float gradients); "
             "use --precision bf16 or fp32");
      if (!cpu.avx2)
        fail("--precision int8: this CPU has no AVX2, which attnmt's int8 products need; use "
             "--precision fp32");
      return {Precision::kInt8, fmt::format("int8 (as asked; {})", int8_description(cpu))};
  }
  fail("precision #{} has no rule", static_cast<int>(requested));
}

void set_precision(Precision p) {
  ATTNMT_CHECK(p != Precision::kAuto, "set_precision: resolve 'auto' first");
  g_precision.store(p);
}

Precision precision() { return g_precision.load(); }

}  // namespace attnmt
