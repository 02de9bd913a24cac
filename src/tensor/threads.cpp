#include "tensor/threads.h"

#include <Eigen/Core>
#include <omp.h>

namespace attnmt {

int set_threads(int n) {
  if (n <= 0) n = omp_get_num_procs();
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
  return n;
}

int get_threads() { return omp_get_max_threads(); }

}  // namespace attnmt
