// The thread count that every command honours (--threads): one OpenMP pool for our loops, the
// float32 GEMM (gemm.cpp) and oneDNN (built on the same OpenMP runtime).
// Not here: process-wide settings (the OpenMP wait policy, malloc tuning): cli/process.h.
#pragma once

namespace attnmt {

// n <= 0 means "all cores". Returns the count now in force.
int set_threads(int n);
int get_threads();

}  // namespace attnmt
