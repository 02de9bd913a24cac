// The thread count that every command honours (--threads): OpenMP loops and Eigen's GEMM.
#pragma once

namespace attnmt {

// n <= 0 means "all cores". Returns the count now in force.
int set_threads(int n);
int get_threads();

}  // namespace attnmt
