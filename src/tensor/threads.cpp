#include "tensor/threads.h"

#include <Eigen/Core>
#include <malloc.h>
#include <omp.h>

namespace attnmt {

int set_threads(int n) {
  // Large tensors (logits, gradients) are freed and allocated again every step. glibc serves
  // blocks over 32 MB with a fresh mmap each time, paying a page fault per 4 KB: keep them.
  static bool tuned = [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)tuned;
  if (n <= 0) n = omp_get_num_procs();
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
  return n;
}

int get_threads() { return omp_get_max_threads(); }

}  // namespace attnmt

#include <cstdlib>
#include <unistd.h>

namespace attnmt {

void tune_openmp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  setenv("GOMP_SPINCOUNT", "2000", 1);
  execv("/proc/self/exe", argv);  // only returns on failure: carry on as we are
}

}  // namespace attnmt
