#include "tensor/threads.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "tensor/error.h"
#include "tensor/memory.h"

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

void run_on_workers(int64_t n, int threads, const std::function<void(int64_t)>& job) {
  if (threads <= 1 || n <= 1) {
    for (int64_t i = 0; i < n; ++i) job(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first;
  std::vector<int64_t> put_aside;  // jobs out of memory beside others: run again alone
  std::mutex mutex;                // first, put_aside
  const int64_t count = std::min<int64_t>(threads, n);
  // Worker w (0 = this thread) gets threads / count OpenMP threads, and one more while the
  // remainder lasts.
  auto work = [&](int64_t w) {
    omp_set_num_threads(static_cast<int>(threads / count + (w < threads % count ? 1 : 0)));
    for (int64_t i; !failed && (i = next++) < n;) {
      try {
        job(i);
      } catch (const TensorMemoryLimit&) {
        std::lock_guard lock(mutex);
        put_aside.push_back(i);
        return;  // this worker stops: the others go on with fewer jobs in flight
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!first) first = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> workers;
  try {
    for (int64_t w = 1; w < count; ++w) workers.emplace_back(work, w);
  } catch (...) {  // no more threads (or memory for one): the ones there are will do
  }
  const int before = omp_get_max_threads();
  work(0);  // this thread is a worker too
  for (auto& t : workers) t.join();
  omp_set_num_threads(before);
  if (first) std::rethrow_exception(first);
  // Every worker may have stopped out of memory: the jobs nobody took run here as well.
  for (int64_t i; (i = next++) < n;) put_aside.push_back(i);
  std::sort(put_aside.begin(), put_aside.end());
  for (int64_t i : put_aside) job(i);
}

}  // namespace attnmt
