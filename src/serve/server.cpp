// The HTTP side of attnmt serve (see server.h).
#include "serve/server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>
#include <new>
#include <nlohmann/json.hpp>

#include "tensor/error.h"
#include "tensor/memory.h"

namespace attnmt::serve {

using nlohmann::json;
using Reply = nlohmann::ordered_json;  // keys in the order written: readable replies

namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kTooLarge =
    "the request is larger than this server takes (attnmt serve --max-request-bytes)";

void send_error(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(error_body(status, message), kJson);
}

// A setting's text as the JSON value it means: a number, true/false, or the string.
Reply typed(const std::string& v) {
  if (v == "true" || v == "false") return v == "true";
  char* end = nullptr;
  const long long i = std::strtoll(v.c_str(), &end, 10);
  if (!v.empty() && *end == '\0') return i;
  const double d = std::strtod(v.c_str(), &end);
  if (!v.empty() && *end == '\0' && std::isfinite(d)) return d;
  return v;
}

Reply summary_json(const ModelSummary& s, const ModelView& view) {
  Reply settings = Reply::object(), training = Reply::object();
  for (const auto& [k, v] : s.settings) settings[k] = typed(v);
  for (const auto& [k, v] : s.training) training[k] = typed(v);
  return {{"path", s.path},
          {"file_bytes", s.file_bytes},
          {"storage", s.storage},
          {"architecture", s.architecture},
          {"parameters", s.parameters},
          {"vocab_size", s.vocab_size},
          {"tied_embeddings", s.tied_embeddings},
          {"precision",
           {{"cpu", s.cpu_isa},
            {"auto", s.auto_precision},
            {"int8_vnni", s.vnni},
            {"int8", s.int8}}},
          {"alignment", {{"layer", view.align_layer}, {"head", view.align_head},
                         {"method", name_of(view.method)}}},
          {"model", std::move(settings)},
          {"training", std::move(training)}};
}

}  // namespace

struct Server::Impl {
  Impl(LoadedModel& m, ModelSummary s, ServeOptions o)
      : model(m), summary(std::move(s)), options(std::move(o)),
        batcher(*m.model, m.vocab, options.batcher), started(std::chrono::steady_clock::now()) {
    const ModelConfig& c = model.model->config();
    view.vocab = &model.vocab;
    view.method = options.batcher.translate.method;
    view.aggregate = options.batcher.translate.aggregate;
    view.links = options.batcher.translate.links;
    // The map the model aligns with: a Transformer's align layer and head (-1: the last layer,
    // the heads' average); an LSTM has one.
    view.align_layer = c.arch == Arch::kTransformer ? c.aligning_layer() : 0;
    view.align_head = c.arch == Arch::kTransformer ? c.align_head : 0;
    model_json = summary_json(summary, view).dump();
    routes();
  }

  void routes();
  void translate(const std::string& body, httplib::Response& res);

  LoadedModel& model;
  ModelSummary summary;
  ServeOptions options;
  Batcher batcher;
  ModelView view;
  std::string model_json;
  std::chrono::steady_clock::time_point started;
  httplib::Server http;
  std::atomic<int64_t> requests{0}, failed{0};
};

void Server::Impl::routes() {
  const int threads = std::max(1, options.http_threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(static_cast<size_t>(options.max_request_bytes));
  http.set_keep_alive_max_count(1000);
  http.set_keep_alive_timeout(2);  // an idle connection holds a thread (and a clean stop) this long
  http.set_read_timeout(10);
  http.set_write_timeout(10);

  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kPageHtml, "text/html; charset=utf-8");
  });
  http.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
    const BatcherStats s = batcher.stats();
    const double uptime =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    res.set_content(Reply{{"status", "ok"},
                         {"uptime_seconds", uptime},
                         {"requests", requests.load()},
                         {"failed_requests", failed.load()},
                         {"batches", s.rounds},
                         {"sentences", s.sentences},
                         {"largest_batch", s.largest},
                         {"idle_releases", s.releases}}
                        .dump(),
                    kJson);
  });
  http.Get("/v1/model", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(model_json, kJson);
  });
  // The body is read here, not by httplib: httplib refuses a body over 8 KB sent as a form
  // (Content-Type application/x-www-form-urlencoded, what `curl -d` sends) with 413, whatever
  // --max-request-bytes says. The body is JSON whatever its declared type.
  http.Post("/v1/translate", [this](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& read) {
    const auto most = static_cast<size_t>(options.max_request_bytes);
    std::string body;
    const bool whole = read([&](const char* data, size_t n) {
      body.append(data, n);
      return body.size() <= most;
    });
    // httplib stops reading past set_payload_max_length before handing anything over.
    const std::string declared = req.get_header_value("Content-Length");
    if (body.size() > most ||
        (!declared.empty() && std::strtoull(declared.c_str(), nullptr, 10) > most))
      return send_error(res, 413, kTooLarge);
    if (!whole) return send_error(res, 400, "the request's body could not be read whole");
    translate(body, res);
  });
  // Whatever status httplib or a route set without a body (404, 405, 413, ...) gets a JSON one.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = fmt::format("HTTP status {}", res.status);
    if (res.status == 404)
      message = fmt::format("no such page: {} {} (the API: POST /v1/translate, GET /v1/model, "
                            "GET /v1/health; the page: GET /)",
                            req.method, req.path);
    if (res.status == 405) message = fmt::format("{} is not allowed here", req.method);
    if (res.status == 413) message = kTooLarge;
    if (res.status == 400) message = "the request is not valid HTTP";
    send_error(res, res.status, message);
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          send_error(res, 500, e.what());
        } catch (...) {
          send_error(res, 500, "unknown error");
        }
      });
}

void Server::Impl::translate(const std::string& body, httplib::Response& res) {
  ++requests;
  const auto start = std::chrono::steady_clock::now();
  try {
    const TranslateRequest q = parse_translate_request(body, options.limits);
    Work work{q.lines, q.search, q.attention == AttentionDetail::kAll};
    WorkResult r = batcher.submit(std::move(work)).get();
    Reply results = Reply::array(), warnings = Reply::array();
    const int cut = input_cut(*model.model, options.batcher.translate.max_input_pieces);
    for (size_t i = 0; i < q.lines.size(); ++i) {
      LineResult line{r.src.ids[i], r.src.labels[i], r.src.cut[i] != 0, std::move(r.hyps[i]),
                      r.maps.empty() ? nullptr : &r.maps[i]};
      if (line.truncated)
        warnings.push_back(fmt::format("text[{}] was cut to its first {} pieces "
                                       "(attnmt serve --max-input-length)",
                                       i, cut));
      results.push_back(line_reply(line, q, view));
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    Reply reply{{"results", std::move(results)}, {"milliseconds", std::round(ms * 10) / 10}};
    if (!warnings.empty()) reply["warnings"] = std::move(warnings);
    res.set_content(reply.dump(), kJson);
  } catch (const ApiError& e) {
    ++failed;
    send_error(res, e.status, e.what());
  } catch (const std::bad_alloc& e) {
    ++failed;
    const bool limit = dynamic_cast<const TensorMemoryLimit*>(&e) != nullptr;
    send_error(res, 503,
               fmt::format("out of memory{}{}: send fewer or shorter lines, or a smaller beam",
                           limit ? ": " : "", limit ? e.what() : ""));
  } catch (const std::exception& e) {
    ++failed;
    send_error(res, 500, e.what());
  }
}

Server::Server(LoadedModel& model, ModelSummary summary, ServeOptions options)
    : impl_(std::make_unique<Impl>(model, std::move(summary), std::move(options))) {}

Server::~Server() {
  stop();
  impl_->batcher.stop();
}

int Server::bind() {
  const ServeOptions& o = impl_->options;
  if (o.port == 0) {
    const int port = impl_->http.bind_to_any_port(o.host);
    ATTNMT_CHECK(port > 0, "cannot listen on {} (any port): is --host an address of this machine?",
                 o.host);
    return port;
  }
  ATTNMT_CHECK(impl_->http.bind_to_port(o.host, o.port),
               "cannot listen on {}:{}: the port is in use or not allowed (choose another with "
               "--port, or --port 0 for any free one)",
               o.host, o.port);
  return o.port;
}

void Server::run() { impl_->http.listen_after_bind(); }

bool Server::wait_until_running() const {
  for (int i = 0; i < 10000; ++i) {
    if (impl_->http.is_running()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

void Server::stop() { impl_->http.stop(); }

BatcherStats Server::stats() const { return impl_->batcher.stats(); }

}  // namespace attnmt::serve
