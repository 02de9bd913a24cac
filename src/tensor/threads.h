// The thread count that every command honours (--threads): one OpenMP pool for our loops, the
// float32 GEMM (gemm.cpp) and oneDNN (built on the same OpenMP runtime).
// Not here: process-wide settings (the OpenMP wait policy, malloc tuning): cli/process.h.
#pragma once

namespace attnmt {

// The most --threads takes: more only slows a product down, and tens of thousands crash the
// OpenMP runtime (its threads' stacks).
inline constexpr int kMaxThreads = 1024;

// Throws unless 0 <= n <= kMaxThreads (0 = all cores): the check of every command's --threads.
void check_threads(int n);

// n == 0 means "all cores" (n is checked first). Returns the count now in force.
int set_threads(int n);
int get_threads();

}  // namespace attnmt
