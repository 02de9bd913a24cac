// Output paths and the lock file. See output_path.h.
#include "io/output_path.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "io/atomic_file.h"
#include "io/temp_files.h"
#include "tensor/error.h"

namespace attnmt {

namespace fs = std::filesystem;

namespace {

// stat() of a path; an input "-" is standard input, compared only when it is a regular file.
bool stat_input(const std::string& path, struct stat& st) {
  if (is_stdout_path(path)) return ::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
  return ::stat(path.c_str(), &st) == 0;
}

bool same_file(const std::string& output, const std::string& input) {
  struct stat a {}, b {};
  return ::stat(output.c_str(), &a) == 0 && stat_input(input, b) && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

OutputTarget resolve_output(const std::string& path) {
  using Kind = OutputTarget::Kind;
  if (is_stdout_path(path) || path == "/dev/stdout" || path == "/dev/fd/1" ||
      path == "/proc/self/fd/1")
    return {Kind::kStdout, path};
  // Descriptors of this process: open them as they are (their link text is not a path).
  if (path.starts_with("/dev/fd/") || path.starts_with("/proc/")) return {Kind::kStream, path};
  // Follow symbolic links to the file they name: that file is replaced, the link stays.
  fs::path p = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) break;
    std::error_code ec;
    fs::path link = fs::read_symlink(p, ec);
    if (ec) break;
    p = link.is_absolute() ? link : p.parent_path() / link;
  }
  struct stat st {};
  if (::stat(p.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return {Kind::kStream, p.string()};
  return {Kind::kReplace, p.string()};
}

std::vector<std::string> check_output(const NamedPath& out, std::span<const NamedPath> inputs) {
  const OutputTarget t = resolve_output(out.path);
  if (t.kind == OutputTarget::Kind::kStdout) return {};
  for (const NamedPath& in : inputs)
    if (!in.path.empty() && same_file(t.path, in.path))
      fail("{} '{}' is the same file as {} '{}': writing it would destroy that input; choose "
           "another output path",
           out.option, out.path, in.option, is_stdout_path(in.path) ? "<stdin>" : in.path);
  struct stat st {};
  const bool exists = ::stat(t.path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode))
    fail("{} '{}' is a folder: give the path of a file (e.g. '{}')", out.option, out.path,
         (fs::path(out.path) / "out.txt").string());
  if (t.kind == OutputTarget::Kind::kStream) {
    if (::access(t.path.c_str(), W_OK) != 0)
      fail("{} '{}' cannot be written: {}", out.option, out.path, errno_text());
    return {};
  }
  const fs::path parent = fs::path(t.path).parent_path();
  const std::string folder = parent.empty() ? "." : parent.string();
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    fail("{} '{}': the folder '{}' does not exist; create it first", out.option, out.path, folder);
  if (::access(folder.c_str(), W_OK) != 0)
    fail("{} '{}': cannot write in the folder '{}': {}", out.option, out.path, folder,
         errno_text());
  return remove_stale_temp_files(t.path);
}

FileLock::FileLock(const std::string& path, std::string_view what) : path_(path) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail("cannot create the lock file '{}': {}", path, errno_text());
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char pid[32] = {};
      const ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
      std::string holder(pid, n > 0 ? static_cast<size_t>(n) : 0);
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      ::close(fd);
      if (err == EWOULDBLOCK)
        fail("{} is in use: another attnmt process{} holds the lock '{}'; wait for it to finish "
             "or choose another output",
             what, holder.empty() ? "" : " (pid " + holder + ")", path);
      fail("cannot lock '{}': {}", path, std::strerror(err));
    }
    // The previous holder may have removed the file between our open and flock: then the lock
    // is on a file nobody else can see, and we try again with the new one.
    struct stat held {}, named {};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
      const std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
        // The lock holds without the note of who holds it.
      }
      fd_ = fd;
      return;
    }
    ::close(fd);
  }
  fail("cannot lock '{}': the file keeps being replaced", path);
}

FileLock::~FileLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still holding it: a waiting process retries with a new file
  ::close(fd_);
}

}  // namespace attnmt
