// The thread count that every command honours (--threads): one OpenMP pool for our loops, the
// float32 GEMM (gemm.cpp) and oneDNN (built on the same OpenMP runtime).
// Not here: process-wide settings (the OpenMP wait policy, malloc tuning): cli/process.h.
#pragma once

#include <cstdint>
#include <functional>

namespace attnmt {

// The most --threads takes: more only slows a product down, and tens of thousands crash the
// OpenMP runtime (its threads' stacks).
inline constexpr int kMaxThreads = 1024;

// Throws unless 0 <= n <= kMaxThreads (0 = all cores): the check of every command's --threads.
void check_threads(int n);

// n == 0 means "all cores" (n is checked first). Returns the count now in force.
int set_threads(int n);
int get_threads();

// Runs job(i) for every i in [0, n) on min(threads, n) workers, each taking the next i as it
// becomes free, with `threads` shared out between them (one each when there are at least as
// many jobs as threads; the rest of a worker's OpenMP setting is its own): independent jobs
// (translation batches) side by side, without the cost of splitting each small product over
// threads. With one job, or one thread, it runs them here on the threads the caller has. The
// first exception a job throws is thrown here once all have stopped; the rest are not started.
// Memory: jobs side by side hold their tensors at once, so a job that runs out of tensor memory
// (TensorMemoryLimit, tensor/memory.h) beside others is put aside and its worker stops (fewer
// jobs in flight from then on); once the workers are done, the jobs put aside run again, one
// after the other on all the threads, and only a job that fails alone fails the call. A job
// must therefore leave no partial result when it throws (write its results at its end).
void run_on_workers(int64_t n, int threads, const std::function<void(int64_t)>& job);

}  // namespace attnmt
