// Outputs that are not plain files (symbolic links, devices, FIFOs), the checks made on every
// output before any work, temp files left by dead processes or removed on a signal, and the
// lock that keeps two trainings off one model (io/output_path.h, io/temp_files.h).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "io/atomic_file.h"
#include "io/output_path.h"
#include "io/temp_files.h"
#include "tensor/error.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

bool is_fifo(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

std::string check_error(const NamedPath& out, std::vector<NamedPath> inputs = {}) {
  try {
    check_output(out, inputs);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The id of a process that has ended (and was reaped), so that no process has it now.
pid_t dead_pid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

size_t count_entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("an output through a symbolic link replaces the link's target and keeps the link",
          "[io]") {
  TempDir dir;
  fs::create_directory(dir.file("sub"));
  write_text(dir.file("real.txt"), "old\n");
  fs::create_symlink("../real.txt", dir.file("sub/link.txt"));  // relative to the link's folder
  write_file_atomic(dir.file("sub/link.txt"), [](std::ostream& os) { os << "new\n"; });
  CHECK(fs::is_symlink(dir.file("sub/link.txt")));
  CHECK(read_text(dir.file("real.txt")) == "new\n");
  // A link to a file that does not exist yet creates that file.
  fs::create_symlink("later.txt", dir.file("dangling"));
  write_file_atomic(dir.file("dangling"), [](std::ostream& os) { os << "made\n"; });
  CHECK(fs::is_symlink(dir.file("dangling")));
  CHECK(read_text(dir.file("later.txt")) == "made\n");
  CHECK(count_entries(dir.path()) == 4);  // sub, real.txt, dangling, later.txt: no temp file
}

TEST_CASE("a device or a FIFO is written through, never replaced by a file", "[io]") {
  TempDir dir;
  // /dev/null through a link: both the link and the device stay what they were.
  fs::create_symlink("/dev/null", dir.file("null"));
  write_file_atomic(dir.file("null"), [](std::ostream& os) { os << "discarded\n"; });
  CHECK(fs::is_symlink(dir.file("null")));
  CHECK(fs::read_symlink(dir.file("null")) == "/dev/null");
  CHECK(fs::is_character_file("/dev/null"));
  CHECK(resolve_output(dir.file("null")).kind == OutputTarget::Kind::kStream);
  CHECK(resolve_output("/dev/stdout").kind == OutputTarget::Kind::kStdout);
  CHECK(resolve_output(dir.file("new.txt")).kind == OutputTarget::Kind::kReplace);

  // A FIFO with a reader: the reader gets the bytes, the FIFO stays a FIFO.
  const std::string fifo = dir.file("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  write_file_atomic(fifo, [](std::ostream& os) { os << "through the pipe\n"; });
  char buf[64] = {};
  const ssize_t got = ::read(reader, buf, sizeof buf - 1);
  ::close(reader);
  CHECK(std::string(buf, got > 0 ? static_cast<size_t>(got) : 0) == "through the pipe\n");
  CHECK(is_fifo(fifo));
  CHECK(count_entries(dir.path()) == 2);  // null, pipe
}

TEST_CASE("check_output refuses folders, missing folders and inputs before any work", "[io]") {
  TempDir dir;
  write_text(dir.file("train.en"), "a\n");
  const std::vector<NamedPath> inputs = {{"--src", dir.file("train.en")}};
  CHECK(check_error({"-o", dir.file("model.bin")}, inputs).empty());
  CHECK(check_error({"-o", "-"}, inputs).empty());

  std::string msg = check_error({"-o", dir.file("train.en")}, inputs);
  CHECK_THAT(msg, Catch::Contains("-o '" + dir.file("train.en") + "' is the same file as --src"));
  CHECK_THAT(msg, Catch::Contains("choose another output path"));
  // Another name for the same file: a hard link, a symbolic link, a path with "./" in it.
  fs::create_hard_link(dir.file("train.en"), dir.file("hard.en"));
  fs::create_symlink(dir.file("train.en"), dir.file("soft.en"));
  CHECK_THAT(check_error({"-o", dir.file("hard.en")}, inputs), Catch::Contains("same file"));
  CHECK_THAT(check_error({"-o", dir.file("soft.en")}, inputs), Catch::Contains("same file"));
  CHECK_THAT(check_error({"-o", dir.path().string() + "/./train.en"}, inputs),
             Catch::Contains("same file"));

  CHECK_THAT(check_error({"-o", dir.path().string()}),
             Catch::Contains("is a folder: give the path of a file"));
  CHECK_THAT(check_error({"-o", dir.file("no/such/model.bin")}),
             Catch::Contains("the folder '" + dir.file("no/such") + "' does not exist"));
  CHECK(fs::exists(dir.file("train.en")));
}

TEST_CASE("temp files of dead processes are removed at the next start, others are kept",
          "[io]") {
  TempDir dir;
  const std::string target = dir.file("out.txt");
  const std::string dead = target + ".tmp." + std::to_string(dead_pid());
  const std::string live = target + ".tmp." + std::to_string(::getppid());  // our parent runs
  const std::string other = dir.file("other.txt.tmp.1");
  const std::string not_a_pid = target + ".tmp.x12";
  for (const auto& p : {dead, live, other, not_a_pid}) write_text(p, "partial");
  std::vector<std::string> removed = check_output({"-o", target});
  REQUIRE(removed.size() == 1);
  CHECK(removed[0] == dead);
  CHECK_FALSE(fs::exists(dead));
  CHECK(fs::exists(live));
  CHECK(fs::exists(other));
  CHECK(fs::exists(not_a_pid));
}

TEST_CASE("a termination signal removes the temp file of a write in progress", "[io]") {
  TempDir dir;
  const std::string target = dir.file("out.txt");
  pid_t child = ::fork();
  if (child == 0) {  // the child: start a write, then receive SIGTERM before committing
    install_temp_file_cleanup();
    AtomicOutput out(target);
    out.stream() << "half of it";
    out.stream().flush();
    ::kill(::getpid(), SIGTERM);
    ::_exit(0);  // not reached
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(fs::is_empty(dir.path()));  // neither the target nor out.txt.tmp.<pid>
}

TEST_CASE("a lock is exclusive between processes and removed when released", "[io]") {
  TempDir dir;
  const std::string path = dir.file("model.bin.lock");
  {
    FileLock held(path, "the model 'model.bin'");
    CHECK(read_text(path) == std::to_string(::getpid()) + "\n");
    // Another process cannot take it: flock locks belong to the open file, so a child opening
    // the file again is refused.
    pid_t child = ::fork();
    if (child == 0) {
      try {
        FileLock again(path, "the model 'model.bin'");
        ::_exit(0);
      } catch (const Error& e) {
        const std::string msg = e.what();
        ::_exit(msg.find("is in use: another attnmt process (pid") != std::string::npos ? 3 : 4);
      }
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 3);
  }
  CHECK_FALSE(fs::exists(path));
  FileLock later(path, "the model 'model.bin'");  // free again
  CHECK(fs::exists(path));
}
