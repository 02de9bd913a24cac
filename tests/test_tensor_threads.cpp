// run_on_workers (tensor/threads.h): every job once, on workers of one OpenMP thread each (or
// a share of the threads when there are fewer jobs), side by side; the first error thrown back;
// the caller's thread count left as it was.
#include <omp.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "helpers.h"
#include "tensor/memory.h"
#include "tensor/threads.h"

using namespace attnmt;

TEST_CASE("workers: every job runs once, on one OpenMP thread each, side by side",
          "[tensor][threads]") {
  const int before = get_threads();
  set_threads(2);
  constexpr int kJobs = 40;
  std::vector<std::atomic<int>> runs(kJobs);
  std::atomic<int> not_serial{0}, busy{0}, most_busy{0};
  std::mutex ids_mutex;
  std::set<std::thread::id> ids;
  run_on_workers(kJobs, 2, [&](int64_t i) {
    const int now = ++busy;
    for (int seen = most_busy; now > seen && !most_busy.compare_exchange_weak(seen, now);) {
    }
    ++runs[i];
    if (omp_get_max_threads() != 1) ++not_serial;
    {
      std::lock_guard lock(ids_mutex);
      ids.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    --busy;
  });
  for (int i = 0; i < kJobs; ++i) CHECK(runs[i] == 1);
  CHECK(not_serial == 0);
  CHECK(ids.size() == 2);
  CHECK(most_busy == 2);  // two jobs at once, at some point
  CHECK(get_threads() == 2);  // the caller's setting is back
  // One worker: the jobs run here, on the threads the caller has.
  const std::thread::id here = std::this_thread::get_id();
  run_on_workers(3, 1, [&](int64_t) {
    CHECK(std::this_thread::get_id() == here);
    CHECK(omp_get_max_threads() == 2);
  });
  set_threads(before);
}

TEST_CASE("workers: fewer jobs than threads share the threads out", "[tensor][threads]") {
  std::atomic<int> wrong{0}, ran{0};
  run_on_workers(2, 4, [&](int64_t) {  // two workers of two threads each
    ++ran;
    if (omp_get_max_threads() != 2) ++wrong;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  });
  CHECK(ran == 2);
  CHECK(wrong == 0);
  std::mutex counts_mutex;
  std::multiset<int> counts;
  run_on_workers(3, 7, [&](int64_t) {  // 7 over 3 workers: 3, 2 and 2
    {
      std::lock_guard lock(counts_mutex);
      counts.insert(omp_get_max_threads());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the three at once
  });
  CHECK(counts == std::multiset<int>{2, 2, 3});
}

TEST_CASE("workers: a job out of memory beside others runs again alone, and fails only alone",
          "[tensor][threads][memory]") {
  constexpr int kJobs = 30;
  std::vector<std::atomic<int>> done(kJobs);
  std::atomic<int> busy{0}, put_aside{0}, wrong_threads{0};
  // Job 0 waits for company, and any job that has company "runs out of memory" on its first
  // try: two batches side by side that would not fit where one does.
  std::vector<std::atomic<int>> tries(kJobs);
  const int caller = get_threads();
  run_on_workers(kJobs, 4, [&](int64_t i) {
    ++busy;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (i == 0 && busy < 2 && std::chrono::steady_clock::now() < until)
      std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (tries[i]++ == 0 && busy > 1) {
      --busy;
      ++put_aside;
      throw TensorMemoryLimit("out of memory: job " + std::to_string(i));
    }
    if (tries[i] > 1 && (busy != 1 || omp_get_max_threads() != caller)) ++wrong_threads;
    ++done[i];
    --busy;
  });
  for (int i = 0; i < kJobs; ++i) CHECK(done[i] == 1);
  CHECK(put_aside >= 1);      // job 0 at least met another job
  CHECK(wrong_threads == 0);  // jobs tried again ran alone, on the caller's threads
  // A job out of memory on its own fails the call, with its message; the others all ran.
  std::atomic<int> ran{0};
  CHECK_THROWS_WITH(run_on_workers(12, 2,
                                   [&](int64_t i) {
                                     if (i == 7) throw TensorMemoryLimit("too big: job 7");
                                     ++ran;
                                   }),
                    "too big: job 7");
  CHECK(ran == 11);
}

TEST_CASE("workers: the first error is thrown back once all have stopped", "[tensor][threads]") {
  std::atomic<int> started{0};
  CHECK_THROWS_WITH(run_on_workers(1000, 2,
                                   [&](int64_t i) {
                                     ++started;
                                     if (i == 5) throw std::runtime_error("job 5 failed");
                                     std::this_thread::sleep_for(std::chrono::microseconds(200));
                                   }),
                    "job 5 failed");
  CHECK(started < 1000);  // the rest were not started
  CHECK(started >= 6);
  // No jobs: nothing runs, nothing is thrown.
  run_on_workers(0, 2, [](int64_t) { FAIL("a job ran"); });
}
