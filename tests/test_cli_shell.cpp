// The program shell: help, version, unknown commands and options.
#include "helpers.h"

using namespace attnmt::testing;

TEST_CASE("attnmt --help lists every command", "[cli]") {
  auto r = run_attnmt("--help");
  CHECK(r.exit_code == 0);
  for (const char* c : {"vocab", "train", "translate", "align", "score", "info"})
    CHECK(r.out.find(c) != std::string::npos);
}

TEST_CASE("attnmt --version prints the version", "[cli]") {
  auto r = run_attnmt("--version");
  CHECK(r.exit_code == 0);
  CHECK(r.out == std::string("attnmt ") + ATTNMT_VERSION + "\n");
}

TEST_CASE("an unknown command prints the usage and exits 2", "[cli]") {
  auto r = run_attnmt("frobnicate");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown command 'frobnicate'") != std::string::npos);
  CHECK(r.err.find("usage: attnmt <command>") != std::string::npos);
  CHECK(run_attnmt("").exit_code == 2);
}

TEST_CASE("every command has --help and rejects an unknown option with exit 2", "[cli]") {
  for (const char* c : {"vocab", "train", "translate", "align", "score", "info"}) {
    INFO(c);
    auto help = run_attnmt(std::string(c) + " --help");
    CHECK(help.exit_code == 0);
    CHECK(help.out.find(std::string("usage: attnmt ") + c) != std::string::npos);
    auto bad = run_attnmt(std::string(c) + " --no-such-option");
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("usage:") != std::string::npos);
  }
}
