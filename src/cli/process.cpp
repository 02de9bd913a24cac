#include "cli/process.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "io/temp_files.h"
#include "tensor/memory.h"

namespace attnmt {

void setup_process(char** argv) {
  bool again = false;  // settings read when the program loads: run it once more with them
  if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT")) {
    setenv("GOMP_SPINCOUNT", "2000", 1);
    again = true;
  }
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string before = tunables ? tunables : "";
  if (before.find("glibc.malloc.hugetlb") == std::string::npos) {
    setenv("GLIBC_TUNABLES",
           (before.empty() ? std::string() : before + ":").append("glibc.malloc.hugetlb=1").c_str(),
           1);
    again = true;
  }
  if (again) execv("/proc/self/exe", argv);  // only returns on failure: carry on as we are
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // One heap for all threads: a second thread's own arena holds at most 64 MB a heap, so a
  // translation worker's large tensors (logits) were mapped and unmapped at every use
  // (measured: align by occlusion, 2 workers, 82 s with 28 s in the kernel; 64 s with one).
  mallopt(M_ARENA_MAX, 1);
  install_temp_file_cleanup();
  set_tensor_memory_limit(default_tensor_memory_limit(available_memory()),
                          "what this machine, or its container, had available at start, less "
                          "15%; --max-memory sets it");
}

}  // namespace attnmt
