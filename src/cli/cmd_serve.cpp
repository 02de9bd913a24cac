// attnmt serve: translates over HTTP and serves the page that draws the attention. This file
// parses options and handles the signals; the server is serve/server.h, the API serve/api.h.
#include <fmt/format.h>
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <optional>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/search_options.h"
#include "serve/server.h"
#include "tensor/error.h"
#include "tensor/threads.h"

namespace attnmt::cli {

namespace {

struct ServeCliOptions {
  std::string model_path;
  int threads = 0;
  Precision precision = Precision::kAuto;
  std::string max_memory;  // --max-memory
  TranslateOptions t;
  serve::ServeOptions s;
  int window_ms = 5;
  int release_ms = 2000;
};

const CommandSpec kSpec{
    "serve",
    "attnmt serve -m MODEL [--host 127.0.0.1] [--port 8080] [--max-batch N] [search options]",
    "Serves the model over HTTP until SIGINT or SIGTERM (requests in flight are finished):\n"
    "  GET  /               a page to translate and see what each layer and head attended to\n"
    "  POST /v1/translate   {\"text\": [\"...\"], \"beam\": 5, \"n_best\": 1, \"alignment\":\n"
    "                       \"none|hard|soft\", \"attention\": \"none|alignment|all\"}\n"
    "  GET  /v1/model       the model, as `attnmt info` describes it\n"
    "  GET  /v1/health      status and counters\n"
    "Requests that arrive within --batch-window-ms of each other are translated together (at\n"
    "most --max-batch sentences). It listens on 127.0.0.1 only unless --host says otherwise.\n"
    "The API in full: README.md, \"Serve\".\n"
    "Example: attnmt serve -m models/en-es.attnmt --port 8080   (then open http://127.0.0.1:8080/)"};

std::optional<ServeCliOptions> parse(int argc, char** argv) {
  ServeCliOptions o;
  serve::ServeOptions& s = o.s;
  po::options_description server("server");
  server.add_options()
      ("host", value_of(&s.host), "address to listen on (0.0.0.0: every interface)")
      ("port", value_of(&s.port), "port (0: any free port, printed at start)")
      ("max-batch", value_of(&s.batcher.max_batch), "sentences translated together at most")
      ("batch-window-ms", value_of(&o.window_ms),
       "how long a request waits for others to join its batch (milliseconds)")
      ("idle-release-ms", value_of(&o.release_ms),
       "idle this long (milliseconds), freed memory goes back to the system (0: never)")
      ("max-request-bytes", value_of(&s.max_request_bytes), "larger request bodies get 413")
      ("max-lines", value_of(&s.limits.max_lines), "more lines in one request get 413")
      ("max-line-bytes", value_of(&s.limits.max_line_bytes), "a longer line gets 413")
      ("max-beam", value_of(&s.limits.max_beam), "the largest beam and n_best a request may ask")
      ("http-threads", value_of(&s.http_threads), "connections served at once");
  po::options_description desc;
  desc.add(model_options(o.model_path, o.threads, o.precision, o.max_memory))
      .add(server)
      .add(search_options(o.t))
      .add(batch_options(o.t))
      .add(alignment_level_option(o.t));
  auto vm = parse_options(kSpec, desc, argc, argv);
  if (!vm) return std::nullopt;
  check_usage(kSpec, desc, [&] {
    o.t.validate();
    check_threads(o.threads);
    apply_max_memory(o.max_memory);
    ATTNMT_CHECK(s.port >= 0 && s.port <= 65535, "--port must be from 0 to 65535, got {}", s.port);
    ATTNMT_CHECK(s.batcher.max_batch >= 1, "--max-batch must be at least 1");
    ATTNMT_CHECK(o.window_ms >= 0 && o.window_ms <= 10000,
                 "--batch-window-ms must be from 0 to 10000");
    ATTNMT_CHECK(o.release_ms >= 0, "--idle-release-ms must be 0 (never) or more");
    ATTNMT_CHECK(s.max_request_bytes >= 1024, "--max-request-bytes must be at least 1024");
    ATTNMT_CHECK(s.limits.max_lines >= 1, "--max-lines must be at least 1");
    ATTNMT_CHECK(s.limits.max_line_bytes >= 1, "--max-line-bytes must be at least 1");
    ATTNMT_CHECK(s.limits.max_beam >= 1 && s.limits.max_beam <= 100,
                 "--max-beam must be from 1 to 100");
    ATTNMT_CHECK(s.http_threads >= 1 && s.http_threads <= 1024,
                 "--http-threads must be from 1 to 1024");
    ATTNMT_CHECK(o.t.search.beam <= s.limits.max_beam,
                 "--beam {} is over --max-beam {}: raise --max-beam", o.t.search.beam,
                 s.limits.max_beam);
  });
  note_given(*vm, o.t);
  s.limits.defaults = o.t.search;
  s.limits.level = o.t.level;
  s.batcher.window = std::chrono::milliseconds(o.window_ms);
  s.batcher.release_after = std::chrono::milliseconds(o.release_ms);
  s.batcher.threads = o.threads;
  return o;
}

}  // namespace

int run_serve(int argc, char** argv) {
  std::optional<ServeCliOptions> parsed = parse(argc, argv);
  if (!parsed) return 0;
  ServeCliOptions& o = *parsed;
  check_outputs("serve", {}, {{"-m", o.model_path}});
  const ResolvedPrecision precision = use_precision(o.precision);
  LoadedModel lm = load_aligning_model(o.model_path, o.t);
  if (!reads_attention(o.t.method)) {
    // The page shows what the model attends to; saliency and occlusion (extra passes per
    // sentence) are for translate and align.
    fmt::print(stderr, "attnmt serve: the alignment method {} is for translate and align; "
                       "serve shows the attention (method prediction)\n",
               name_of(o.t.method));
    o.t.method = AlignmentMethod::kPrediction;
  }
  o.s.batcher.translate = o.t;  // with the model file's calibrated alignment choices
  ModelSummary summary = summarize_model(lm, o.model_path);
  // SIGINT and SIGTERM go to one thread that stops the server: blocked here, before any other
  // thread exists, so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  serve::Server server(lm, std::move(summary), o.s);
  const int port = server.bind();
  const std::string host = o.s.host.find(':') != std::string::npos ? "[" + o.s.host + "]" : o.s.host;
  fmt::print(stderr,
             "attnmt serve: {} on http://{}:{}/ (products in {}; at most {} sentences a batch); "
             "Ctrl-C stops\n",
             o.model_path, host, port, precision.why, o.s.batcher.max_batch);
  std::fflush(stderr);
  std::atomic<int> received{0};
  std::thread watcher([&] {
    // A signal that comes before the server runs stays pending (blocked) until sigwait takes it.
    server.wait_until_running();
    int signal = 0;
    sigwait(&stop_signals, &signal);
    received = signal;
    server.stop();
  });
  server.run();
  if (received == 0) pthread_kill(watcher.native_handle(), SIGTERM);  // run() ended by itself
  watcher.join();
  const int signal = received;
  const serve::BatcherStats stats = server.stats();
  fmt::print(stderr, "attnmt serve: stopped{}: {} sentences in {} requests, {} batches\n",
             signal ? fmt::format(" ({})", signal == SIGINT ? "SIGINT" : "SIGTERM") : "",
             stats.sentences, stats.requests, stats.rounds);
  return 0;
}

}  // namespace attnmt::cli
