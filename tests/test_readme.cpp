// The README cannot drift from the program: these tests take the shell blocks of README.md's
// "shipped model" and "Quickstart" sections as written, shrink only what makes them slow
// (vocabulary size, the training preset, training time) by exact text substitutions that must
// all still match, run them with bash in a temporary folder, and check what they produced.
// Not here: the first two commands (tools/setup.sh and tools/test.sh install packages; CI runs
// the second, and the first is a superset of tools/demo.sh, which runs the same translate and
// align commands).
#include <regex>
#include <sstream>

#include "helpers.h"

using namespace attnmt::testing;

namespace {

const std::string kSourceDir = ATTNMT_SOURCE_DIR;

// The first (or the `skip`+1-th) ```sh block after the first heading line that contains
// `heading`.
std::string shell_block_after(const std::string& readme, const std::string& heading,
                              int skip = 0) {
  std::istringstream in(readme);
  bool in_section = false, in_block = false;
  std::string block;
  for (std::string line; std::getline(in, line);) {
    if (!in_section) {
      in_section = line.rfind("#", 0) == 0 && line.find(heading) != std::string::npos;
    } else if (!in_block) {
      in_block = line == "```sh";
    } else if (line == "```") {
      if (skip-- == 0) return block;
      block.clear();
      in_block = false;
    } else {
      block += line + "\n";
    }
  }
  FAIL("README.md has no ```sh block under a heading containing \"" << heading << "\"");
  return "";
}

// Replaces every occurrence of `from`; fails the test when there is none (the README changed:
// update the substitution together with the README).
void substitute(std::string& text, const std::string& from, const std::string& to) {
  INFO("README substitution: \"" << from << "\"");
  REQUIRE(text.find(from) != std::string::npos);
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
    text.replace(at, from.size(), to);
}

int lines_in(const std::string& path) {
  std::istringstream in(read_text(path));
  int n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

RunResult run_block(const TempDir& dir, const std::string& script) {
  write_text(dir.file("readme.sh"), "set -euo pipefail\n" + script);
  return run_shell("cd " + dir.path().string() + " && bash readme.sh");
}

}  // namespace

TEST_CASE("README: the shipped-model commands translate and draw heatmaps", "[readme][e2e]") {
  if (!fs::exists(kSourceDir + "/models/en-es.attnmt")) {
    WARN("skipped: models/en-es.attnmt is not in this tree");
    return;
  }
  std::string block = shell_block_after(read_text(kSourceDir + "/README.md"), "shipped model");
  substitute(block, "A=build/attnmt", std::string("A=") + ATTNMT_BINARY);
  substitute(block, " models/", " " + kSourceDir + "/models/");
  substitute(block, " corpora/", " " + kSourceDir + "/corpora/");
  TempDir dir("readme-shipped");
  RunResult r = run_block(dir, block);
  INFO(block << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);

  int n_sample = lines_in(kSourceDir + "/corpora/sample.en");
  REQUIRE(lines_in(dir.file("sample.es")) == n_sample);
  // --alignment hard prints "translation ||| i-j i-j ..." for every line
  std::regex hard_line(R"(.+ \|\|\| (\d+-\d+)( \d+-\d+)*)");
  std::istringstream out(r.out);
  int aligned = 0;
  for (std::string l; std::getline(out, l);) aligned += std::regex_match(l, hard_line);
  CHECK(aligned == n_sample);
  int svgs = 0;
  for (const auto& e : fs::directory_iterator(dir.file("heatmaps")))
    svgs += e.path().extension() == ".svg";
  CHECK(svgs >= 1);
}

TEST_CASE("README: the quickstart runs as written (tiny settings)", "[readme][e2e]") {
  std::string block = shell_block_after(read_text(kSourceDir + "/README.md"), "Quickstart");
  TempDir dir("readme-quick");
  std::string d = dir.path().string();
  // The corpus apart from where the commands run, as in the README: its translation test.es
  // must not overwrite the reference test.es that `score` reads.
  const std::string c = d + "/corpus";
  fs::create_directories(c);
  write_tiny_corpus(c);  // train.{en,es}; the quickstart also reads dev and test
  for (const char* split : {"dev", "test"})
    for (const char* lang : {"en", "es"})
      write_text(c + "/" + split + "." + lang, read_text(c + "/train." + lang));
  write_text(d + "/tiny.ini",
             "arch = transformer\nemb-dim = 32\nheads = 2\nffn-dim = 64\nenc-layers = 1\n"
             "dec-layers = 1\ndropout = 0\nlabel-smoothing = 0\nbatch-tokens = 500\n"
             "lr = 0.003\nwarmup = 20\nschedule = inverse-sqrt\nthreads = 1\n");

  substitute(block, "A=build/attnmt", std::string("A=") + ATTNMT_BINARY);
  substitute(block, "C=corpora/bible.en-es", "C=" + c);
  substitute(block, "--size 8000", "--size 40");
  substitute(block, "--config models/transformer-small.ini", "--config " + d + "/tiny.ini");
  substitute(block, "--max-time 30", "--max-steps 20");
  substitute(block, "--max-time 60", "--max-steps 40");
  RunResult r = run_block(dir, block);
  INFO(block << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);

  // the resumed run went on from the checkpoint to step 40
  CHECK(r.err.find("resuming from") != std::string::npos);
  CHECK(read_text(d + "/train.log").find("done after step 40") != std::string::npos);
  int n = lines_in(c + "/test.en");
  CHECK(read_text(c + "/test.es") == read_text(c + "/train.es"));  // the reference untouched
  CHECK(lines_in(d + "/test.es") == n);
  CHECK(lines_in(d + "/test.align") == n);
  std::regex pharaoh(R"((\d+-\d+( \d+-\d+)*)?)");
  std::istringstream align(read_text(d + "/test.align"));
  for (std::string l; std::getline(align, l);) CHECK(std::regex_match(l, pharaoh));
  CHECK(fs::exists(d + "/heatmaps"));
  CHECK(!fs::is_empty(d + "/heatmaps"));
  CHECK(read_text(d + "/curves.svg").find("<polyline") != std::string::npos);
  CHECK(r.out.find("BLEU") != std::string::npos);
  CHECK(r.out.find("transformer") != std::string::npos);  // attnmt info
}

TEST_CASE("README: the Serve section's server and curl examples work as written",
          "[readme][serve][e2e]") {
  if (run_shell("command -v curl").exit_code != 0) {
    WARN("skipped: no curl (sudo bash tools/install-deps.sh test)");
    return;
  }
  const std::string readme = read_text(kSourceDir + "/README.md");
  std::string start = shell_block_after(readme, "Serve");
  substitute(start, "build/attnmt", ATTNMT_BINARY);
  substitute(start, " models/", " " + kSourceDir + "/models/");
  substitute(start, "--port 8080", "--port 0");
  TempDir dir("readme-serve");
  while (!start.empty() && start.back() == '\n') start.pop_back();
  RunResult started = run_shell("cd " + dir.path().string() + " && { " + start +
                                " > /dev/null 2> err < /dev/null & echo $!; }");
  REQUIRE(started.exit_code == 0);
  const std::string pid = split_lines(started.out).at(0);
  std::string port;
  const std::regex listening(R"(http://127\.0\.0\.1:(\d+)/)");
  for (int i = 0; i < 300 && port.empty(); ++i) {
    std::smatch m;
    const std::string err = read_text(dir.file("err"));
    if (std::regex_search(err, m, listening)) port = m[1];
    else run_shell("sleep 0.1");
  }
  REQUIRE_FALSE(port.empty());
  std::string curls = shell_block_after(readme, "Serve", 1);
  substitute(curls, "localhost:8080", "127.0.0.1:" + port);
  // Each reply on a line of its own, and any HTTP error fails the block.
  RunResult r = run_block(dir, "curl() { command curl --fail-with-body \"$@\"; echo; }\n" + curls);
  run_shell("kill -TERM " + pid);
  INFO(curls << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  int replies = 0;
  for (const std::string& line : split_lines(r.out)) {
    if (line.empty()) continue;
    ++replies;
    CHECK(line.front() == '{');
    CHECK(line.find("\"error\"") == std::string::npos);
  }
  CHECK(replies == 5);
  CHECK(r.out.find("\"translation\"") != std::string::npos);
  CHECK(r.out.find("\"decoder\"") != std::string::npos);   // attention: all
  CHECK(r.out.find("\"status\":\"ok\"") != std::string::npos);  // health
}
