// attnmt serve over real HTTP: a server on a free local port with the shipped model, a C++
// client (cpp-httplib). Replies equal `attnmt translate` on the same lines, concurrent clients
// get their own answers (translated together), the attention maps have the model's shapes and
// rules, bad input gets its status as JSON, and SIGTERM lets a request in flight finish.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "helpers.h"
#include "models/model_summary.h"
#include "serve/server.h"
#include "tensor/memory.h"

namespace attnmt::testing {
namespace {

using nlohmann::json;

const std::string kModel = std::string(ATTNMT_SOURCE_DIR) + "/models/en-es.attnmt";
const std::string kSample = std::string(ATTNMT_SOURCE_DIR) + "/corpora/sample.en";

// A server on a free port of 127.0.0.1, running in a thread until the object dies.
class LocalServer {
 public:
  explicit LocalServer(serve::ServeOptions o) : model_(load_model(kModel)) {
    o.port = 0;
    server_ = std::make_unique<serve::Server>(model_, summarize_model(model_, kModel), o);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
    REQUIRE(server_->wait_until_running());
  }
  ~LocalServer() {
    server_->stop();
    thread_.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120);
    return c;
  }
  LoadedModel& model() { return model_; }

 private:
  LoadedModel model_;
  std::unique_ptr<serve::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

serve::ServeOptions test_options() {
  serve::ServeOptions o;
  o.max_request_bytes = 4096;
  o.batcher.window = std::chrono::milliseconds(200);  // wide: concurrent requests must meet
  o.batcher.translate.max_input_pieces = 250;
  return o;
}

// test_options() with room for a request of 1 MB.
serve::ServeOptions large_request_options() {
  serve::ServeOptions o = test_options();
  o.max_request_bytes = 1 << 20;
  return o;
}

json post(const httplib::Client& c_, const json& body, int expect_status = 200) {
  httplib::Client& c = const_cast<httplib::Client&>(c_);
  auto r = c.Post("/v1/translate", body.dump(), "application/json");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == expect_status);
  REQUIRE(r->get_header_value("Content-Type") == "application/json");
  return json::parse(r->body);
}

double row_sum(const json& row) {
  double s = 0;
  for (const json& v : row) s += v.get<double>();
  return s;
}

}  // namespace

TEST_CASE("serve: replies equal attnmt translate, alignments included", "[serve][e2e]") {
  const std::vector<std::string> lines = split_lines(read_text(kSample));
  // serve's links read the attention (a probe would cost each request a pass per source
  // piece); translate's hard links default to occlusion, so name the attention. The server in
  // this process multiplies in float32 (the process's precision); so does translate, asked to.
  RunResult expected = run_attnmt("translate -m '" + kModel + "' -i '" + kSample +
                                  "' --beam 5 --alignment hard --alignment-method prediction "
                                  "--precision fp32");
  REQUIRE(expected.exit_code == 0);
  const std::vector<std::string> want = split_lines(expected.out);
  REQUIRE(want.size() == lines.size());

  LocalServer server(test_options());
  const json reply =
      post(server.client(), {{"text", lines}, {"beam", 5}, {"alignment", "hard"}});
  REQUIRE(reply["results"].size() == lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const json& r = reply["results"][i];
    std::string pairs;
    for (const json& p : r["alignment"])
      pairs += (pairs.empty() ? "" : " ") + std::to_string(p[0].get<int>()) + "-" +
               std::to_string(p[1].get<int>());
    CHECK(r["translation"].get<std::string>() + " ||| " + pairs == want[i]);
    CHECK(r["alignment_level"] == "word");
    CHECK(r["truncated"] == false);
    // The words the indices count are the line's own.
    const auto words = std::count(lines[i].begin(), lines[i].end(), ' ') + 1;
    CHECK(r["source"]["words"].size() == static_cast<size_t>(words));
  }
}

TEST_CASE("serve: concurrent clients get their own answers, translated together",
          "[serve][e2e]") {
  const std::vector<std::string> lines = split_lines(read_text(kSample));
  RunResult expected = run_attnmt("translate -m '" + kModel + "' -i '" + kSample +
                                  "' --beam 3 --precision fp32");  // the server's, in this process
  REQUIRE(expected.exit_code == 0);
  const std::vector<std::string> want = split_lines(expected.out);

  LocalServer server(test_options());
  std::vector<std::future<std::string>> replies;
  for (size_t i = 0; i < lines.size(); ++i)
    replies.push_back(std::async(std::launch::async, [&, i] {
      httplib::Client c = server.client();
      auto r = c.Post("/v1/translate", json{{"text", lines[i]}, {"beam", 3}}.dump(),
                      "application/json");
      if (!r || r->status != 200) return std::string("failed");
      return json::parse(r->body)["results"][0]["translation"].get<std::string>();
    }));
  for (size_t i = 0; i < lines.size(); ++i) CHECK(replies[i].get() == want[i]);
  auto health = server.client().Get("/v1/health");
  REQUIRE(health);
  const json h = json::parse(health->body);
  CHECK(h["status"] == "ok");
  CHECK(h["sentences"] == lines.size());
  CHECK(h["largest_batch"].get<int>() >= 2);  // some requests met in one batch
  CHECK(h["batches"].get<int>() < static_cast<int>(lines.size()));
}

TEST_CASE("serve: attention all gives every layer and head with the model's shapes",
          "[serve][e2e]") {
  LocalServer server(test_options());
  const ModelConfig& c = server.model().model->config();
  const json reply = post(server.client(),
                          {{"text", "The king gave bread to the people."}, {"attention", "all"}});
  const json& r = reply["results"][0];
  const json& a = r["attention"];
  const size_t S = r["source"]["pieces"].size() + 1, T = r["target"]["pieces"].size() + 1;
  REQUIRE(a["source"].size() == static_cast<size_t>(c.dec_layers));
  REQUIRE(a["decoder"].size() == static_cast<size_t>(c.dec_layers));
  REQUIRE(a["encoder"].size() == static_cast<size_t>(c.enc_layers));
  for (const char* kind : {"source", "decoder", "encoder"})
    for (const json& layer : a[kind]) {
      REQUIRE(layer.size() == static_cast<size_t>(c.heads));
      for (const json& head : layer)
        for (const char* level : {"piece", "word"})
          for (const json& row : head[level]["weights"]) CHECK(row_sum(row) == Approx(1).margin(5e-3));
    }
  const json& cross = a["source"][0][0]["piece"];
  CHECK(cross["rows"].size() == T);
  CHECK(cross["columns"].size() == S);
  CHECK(cross["rows"].back() == "</s>");
  CHECK(cross["columns"].back() == "</s>");
  // The decoder's self-attention: inputs "<s>" y_1 ... y_n, causal.
  const json& self = a["decoder"][1][2]["piece"];
  CHECK(self["columns"][0] == "<s>");
  CHECK(self["weights"].size() == T);
  for (size_t row = 0; row < T; ++row)
    for (size_t col = row + 1; col < T; ++col) CHECK(self["weights"][row][col] == 0.0);
  // "alignment" is the heads' average of the model's alignment layer (as search records it).
  const int L = a["alignment"]["layer"];
  REQUIRE(a["alignment"]["head"] == -1);
  const json& align = a["alignment"]["piece"]["weights"];
  REQUIRE(align.size() == T);
  for (size_t row = 0; row < T; ++row)
    for (size_t col = 0; col < S; ++col) {
      double mean = 0;
      for (const json& head : a["source"][L]) mean += head["piece"]["weights"][row][col].get<double>();
      mean /= c.heads;
      CHECK(align[row][col].get<double>() == Approx(mean).margin(2e-3));
    }
}

TEST_CASE("serve: bad requests get their HTTP status and a JSON error", "[serve][e2e]") {
  LocalServer server(test_options());
  httplib::Client c = server.client();
  auto check = [](const httplib::Result& r, int status, const std::string& says) {
    REQUIRE(r);
    INFO(r->body);
    CHECK(r->status == status);
    const json j = json::parse(r->body);
    CHECK(j["error"]["status"] == status);
    CHECK_THAT(j["error"]["message"].get<std::string>(), Catch::Contains(says));
  };
  check(c.Post("/v1/translate", "{not json", "application/json"), 400, "not valid JSON");
  check(c.Post("/v1/translate", "{\"text\": \"caf\xC3\"}", "application/json"), 400, "UTF-8");
  check(c.Post("/v1/translate", std::string(10000, ' '), "application/json"), 413,
        "--max-request-bytes");
  check(c.Get("/v1/nothing"), 404, "no such page");
  // The server is still well after all that.
  const json ok = post(c, {{"text", "Good morning."}});
  CHECK_FALSE(ok["results"][0]["translation"].get<std::string>().empty());
  auto page = c.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK_THAT(page->body, Catch::Contains("<title>attnmt</title>"));
  auto model = c.Get("/v1/model");
  REQUIRE(model);
  const json m = json::parse(model->body);
  CHECK(m["parameters"] == server.model().model->params().n_scalars());
  CHECK(m["model"]["arch"] == "transformer");
}

TEST_CASE("serve: a body sent as a form (curl -d) is read as JSON past httplib's 8 KB for forms",
          "[serve][e2e]") {
  LocalServer server(large_request_options());
  httplib::Client c = server.client();
  const std::string body = R"({"text": "Good morning.")" + std::string(20000, ' ') + "}";
  auto form = c.Post("/v1/translate", body, "application/x-www-form-urlencoded");
  REQUIRE(form);
  INFO(form->body);
  REQUIRE(form->status == 200);
  const json as_json = post(c, {{"text", "Good morning."}});
  CHECK(json::parse(form->body)["results"][0]["translation"] ==
        as_json["results"][0]["translation"]);
  // Past --max-request-bytes it is still refused, with the option's name.
  auto big = c.Post("/v1/translate", R"({"text": "a")" + std::string(1 << 20, ' ') + "}",
                    "application/x-www-form-urlencoded");
  REQUIRE(big);
  CHECK(big->status == 413);
  CHECK_THAT(big->body, Catch::Contains("--max-request-bytes"));
}

TEST_CASE("serve: idle after a request, the server gives freed memory back, then serves on",
          "[serve][e2e]") {
  serve::ServeOptions o = test_options();
  o.batcher.release_after = std::chrono::milliseconds(100);
  LocalServer server(o);
  httplib::Client c = server.client();
  auto releases = [&] {
    auto r = c.Get("/v1/health");
    REQUIRE(r);
    return json::parse(r->body)["idle_releases"].get<int64_t>();
  };
  CHECK(releases() == 0);  // nothing translated yet: nothing to give
  const json first = post(c, {{"text", {"Good morning.", "The king gave bread to the people."}}});
  int64_t n = 0;
  for (int i = 0; i < 200 && (n = releases()) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  CHECK(n == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(releases() == 1);  // once per idle spell, not every 100 ms
  const json again = post(c, {{"text", {"Good morning.", "The king gave bread to the people."}}});
  CHECK(again["results"] == first["results"]);
}

TEST_CASE("serve: a line over the input limit is cut, and the reply says so", "[serve][e2e]") {
  serve::ServeOptions o = test_options();
  o.batcher.translate.max_input_pieces = 4;
  LocalServer server(o);
  const json reply = post(server.client(),
                          {{"text", {"Good morning.", "The king gave bread and water to the people."}}});
  CHECK(reply["results"][0]["truncated"] == false);
  CHECK(reply["results"][1]["truncated"] == true);
  CHECK(reply["results"][1]["source"]["pieces"].size() == 4);
  REQUIRE(reply["warnings"].size() == 1);
  CHECK_THAT(reply["warnings"][0].get<std::string>(),
             Catch::Contains("text[1] was cut to its first 4 pieces"));
}

TEST_CASE("serve: a request over the memory limit gets 503, and the server carries on",
          "[serve][e2e][memory]") {
  LocalServer server(large_request_options());
  httplib::Client c = server.client();
  // Room for a short sentence, not for 16 long ones at beam 8; the limit before is put back.
  struct Limit {
    int64_t before = tensor_memory().limit;
    ~Limit() { set_tensor_memory_limit(before, "the limit before the test"); }
  } restore;
  set_tensor_memory_limit(tensor_memory().live + (int64_t(8) << 20), "the test's limit");
  std::vector<std::string> long_lines(16);
  for (auto& line : long_lines)
    for (int i = 0; i < 40; ++i) line += "and the lord said unto moses ";
  const json over = post(c, {{"text", long_lines}, {"beam", 8}}, 503);
  CHECK_THAT(over["error"]["message"].get<std::string>(),
             Catch::Contains("out of memory: the tensors would take") &&
                 Catch::Contains("the test's limit") && Catch::Contains("fewer or shorter lines"));
  const json ok = post(c, {{"text", "Good morning."}});
  CHECK_FALSE(ok["results"][0]["translation"].get<std::string>().empty());
}

TEST_CASE("serve: SIGTERM finishes the request in flight, then the program exits 0",
          "[serve][e2e]") {
  TempDir dir;
  const std::string err = dir.file("err");
  // The program itself, its stderr in a file (the port is printed there).
  const std::vector<std::string> args = {ATTNMT_BINARY, "serve", "-m", kModel, "--port", "0",
                                         "--batch-window-ms", "1500", "--threads", "1"};
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, ATTNMT_BINARY, &files, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&files);
  int port = 0;
  const std::regex listening(R"(http://127\.0\.0\.1:(\d+)/)");
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::smatch m;
    const std::string text = read_text(err);
    if (std::regex_search(text, m, listening)) port = std::stoi(m[1]);
    else std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(port > 0);
  // A request that waits 1.5 s in the batching window: SIGTERM arrives while it is in flight.
  auto reply = std::async(std::launch::async, [port] {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60);
    auto r = c.Post("/v1/translate", R"({"text": "Good morning."})", "application/json");
    return r ? r->status : -1;
  });
  // SIGTERM once the server counts the request (not after a fixed sleep: on a loaded machine
  // the request may not have arrived yet).
  httplib::Client health("127.0.0.1", port);
  int64_t arrived = 0;
  for (int i = 0; i < 200 && arrived == 0; ++i) {
    auto h = health.Get("/v1/health");
    if (h && h->status == 200) arrived = json::parse(h->body)["requests"].get<int64_t>();
    if (arrived == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(arrived == 1);
  REQUIRE(kill(pid, SIGTERM) == 0);
  CHECK(reply.get() == 200);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(read_text(err), Catch::Contains("stopped (SIGTERM): 1 sentences in 1 requests"));
}

TEST_CASE("serve: wrong options and a missing model are refused before listening",
          "[serve][e2e]") {
  RunResult r = run_attnmt("serve -m '" + kModel + "' --port 70000");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--port must be from 0 to 65535"));
  r = run_attnmt("serve -m /nonexistent/model.attnmt --port 0");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.err, Catch::Contains("/nonexistent/model.attnmt"));
  r = run_attnmt("serve -m '" + kModel + "' --host 203.0.113.7 --port 0");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.err, Catch::Contains("cannot listen on 203.0.113.7"));
}

}  // namespace attnmt::testing
