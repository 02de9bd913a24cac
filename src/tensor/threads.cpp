#include "tensor/threads.h"

#include <omp.h>

#include <Eigen/Core>

#include "tensor/error.h"

namespace attnmt {

void check_threads(int n) {
  ATTNMT_CHECK(n >= 0 && n <= kMaxThreads, "--threads must be from 0 (all cores) to {}, got {}",
               kMaxThreads, n);
}

int set_threads(int n) {
  check_threads(n);
  if (n == 0) n = omp_get_num_procs();
  omp_set_num_threads(n);
  // Eigen stays single-threaded: gemm() splits products over the threads itself (gemm.cpp).
  Eigen::setNbThreads(1);
  return n;
}

int get_threads() { return omp_get_max_threads(); }

}  // namespace attnmt
