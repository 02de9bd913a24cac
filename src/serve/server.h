// attnmt serve: the HTTP server (cpp-httplib) around one loaded model. Routes:
//   GET  /                 the page that translates and draws the attention (serve/page.html,
//                          compiled in: no file is ever served from disk)
//   GET  /v1/health        {"status": "ok", ...} and the batching counters
//   GET  /v1/model         what `attnmt info` says of the model, as JSON
//   POST /v1/translate     serve/api.h
// Every error is JSON {"error": {"status", "message"}} with its HTTP status. Requests go to
// the Batcher (serve/batcher.h), which alone runs the model.
// Not here: options and signals (cli/cmd_serve.cpp), the JSON rules (serve/api.h).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "models/model_summary.h"
#include "serve/api.h"
#include "serve/batcher.h"

namespace attnmt::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (bind() says which)
  int max_request_bytes = 1 << 20;  // 413 beyond
  int http_threads = 32;            // connections served at once (each waits on the model)
  ApiLimits limits;
  BatcherOptions batcher;
};

class Server {
 public:
  // The model must outlive the server. `summary` is what GET /v1/model returns.
  Server(LoadedModel& model, ModelSummary summary, ServeOptions options);
  ~Server();
  // Binds the listening socket; returns the port. Throws attnmt::Error when it cannot.
  int bind();
  // Serves until stop(); requests in flight are finished before it returns.
  void run();
  // Waits (up to 10 s) until run() is accepting connections; false if it never did. stop()
  // before that point would be lost: callers that start run() in a thread wait here first.
  bool wait_until_running() const;
  // From any thread (a signal watcher, a test): stops accepting, lets run() return.
  void stop();
  BatcherStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The page (serve/page.html), compiled in by CMake (cmake/embed_text.cmake).
extern const char kPageHtml[];

}  // namespace attnmt::serve
