#include "tensor/threads.h"

#include <Eigen/Core>
#include <omp.h>

namespace attnmt {

int set_threads(int n) {
  if (n <= 0) n = omp_get_num_procs();
  omp_set_num_threads(n);
  // Eigen stays single-threaded: gemm() splits products over the threads itself (gemm.cpp).
  Eigen::setNbThreads(1);
  return n;
}

int get_threads() { return omp_get_max_threads(); }

}  // namespace attnmt
