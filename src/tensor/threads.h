// The thread count that every command honours (--threads): OpenMP loops and Eigen's GEMM.
#pragma once

namespace attnmt {

// n <= 0 means "all cores". Returns the count now in force.
int set_threads(int n);
int get_threads();

}  // namespace attnmt

namespace attnmt {

// libgomp's idle threads spin for a long while after each parallel region; on a shared or busy
// machine they steal the core from the thread doing the work (measured: 14x slower training of a
// small model). libgomp reads its settings when it loads, so this re-executes the program once
// with a short spin (GOMP_SPINCOUNT) unless the user chose OMP_WAIT_POLICY or GOMP_SPINCOUNT.
// Returns only when no re-execution was needed (or it failed, which is harmless).
void tune_openmp_wait(char** argv);

}  // namespace attnmt
