// serve_load: the load generator of tools/bench-serve. N clients (threads, one keep-alive
// connection each) send one sentence per POST /v1/translate to a running `attnmt serve` on
// localhost, cycling through the lines of a file, until R requests are done in all; then one
// line: clients, requests, failed, seconds, requests/s, p50 and p99 latency (ms).
// usage: serve_load PORT CLIENTS REQUESTS FILE [BEAM]
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 5) {
    fmt::print(stderr, "usage: serve_load PORT CLIENTS REQUESTS FILE [BEAM]\n");
    return 2;
  }
  const int port = std::stoi(argv[1]), clients = std::stoi(argv[2]);
  const int64_t requests = std::stoll(argv[3]);
  const int beam = argc > 5 ? std::stoi(argv[5]) : 5;
  std::vector<std::string> lines;
  std::ifstream in(argv[4]);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  if (lines.empty()) {
    fmt::print(stderr, "serve_load: no lines in {}\n", argv[4]);
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  std::atomic<int64_t> next{0}, failed{0};
  std::mutex mutex;
  std::vector<double> latency_ms;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_read_timeout(300);
      std::vector<double> mine;
      for (int64_t i; (i = next++) < requests;) {
        const std::string body =
            nlohmann::json{{"text", lines[i % lines.size()]}, {"beam", beam}}.dump();
        const auto t0 = Clock::now();
        auto r = client.Post("/v1/translate", body, "application/json");
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!r || r->status != 200) ++failed;
      }
      std::lock_guard lock(mutex);
      latency_ms.insert(latency_ms.end(), mine.begin(), mine.end());
    });
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latency_ms.begin(), latency_ms.end());
  auto pct = [&](double p) {
    return latency_ms.empty() ? 0.0
                              : latency_ms[std::min(latency_ms.size() - 1,
                                                    static_cast<size_t>(p * latency_ms.size()))];
  };
  fmt::print("clients {} requests {} failed {} seconds {:.2f} requests/s {:.2f} p50_ms {:.1f} "
             "p99_ms {:.1f}\n",
             clients, requests, failed.load(), seconds, requests / seconds, pct(0.50), pct(0.99));
  return failed ? 1 : 0;
}
