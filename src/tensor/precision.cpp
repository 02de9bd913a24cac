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
  f.isa = f.amx_bf16      ? "AMX-BF16"
          : f.avx512_bf16 ? "AVX512-BF16"
          : f.vnni        ? "AVX512-VNNI"
          : f.avx512_core ? "AVX-512"
                          : "no AVX-512";
  return f;
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
      if (!cpu.avx512_core)
        fail("--precision int8: this CPU has no AVX-512, which attnmt's int8 products need; use "
             "--precision fp32");
      return {Precision::kInt8, fmt::format("int8 (as asked; {})",
                                            cpu.vnni ? "AVX512-VNNI" : "AVX-512 without VNNI: slow")};
  }
  fail("precision #{} has no rule", static_cast<int>(requested));
}

void set_precision(Precision p) {
  ATTNMT_CHECK(p != Precision::kAuto, "set_precision: resolve 'auto' first");
  g_precision.store(p);
}

Precision precision() { return g_precision.load(); }

}  // namespace attnmt
