#include "tensor/threads.h"

#include <omp.h>

#include <Eigen/Core>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

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

void run_on_workers(int64_t n, int threads, const std::function<void(int64_t)>& job) {
  if (threads <= 1 || n <= 1) {
    for (int64_t i = 0; i < n; ++i) job(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first;
  std::mutex first_mutex;
  const int64_t count = std::min<int64_t>(threads, n);
  auto work = [&, each = static_cast<int>(threads / count)] {
    omp_set_num_threads(each);  // this thread's own setting: its OpenMP regions and oneDNN's
    for (int64_t i; !failed && (i = next++) < n;) {
      try {
        job(i);
      } catch (...) {
        std::lock_guard lock(first_mutex);
        if (!first) first = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> workers;
  try {
    for (int64_t t = 1; t < count; ++t) workers.emplace_back(work);
  } catch (...) {  // no more threads (or memory for one): the ones there are will do
  }
  const int before = omp_get_max_threads();
  work();  // this thread is a worker too
  omp_set_num_threads(before);
  for (auto& t : workers) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace attnmt
