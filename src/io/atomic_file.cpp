// Atomic file output through a temp file, fsync and rename. See atomic_file.h.
// The stream writes through a small buffer straight to a POSIX file descriptor, so that the
// reason of a failed write (errno: "No space left on device") reaches the user and fsync is
// possible; std::ofstream gives neither.
#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <streambuf>
#include <vector>

#include "io/output_path.h"
#include "io/temp_files.h"
#include "tensor/error.h"

namespace attnmt {

namespace {

std::string errno_text(int err) { return err ? std::strerror(err) : "unknown I/O error"; }

// A write-only streambuf over a file descriptor that remembers the first errno.
class FdBuf : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd), buffer_(1 << 16) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  int error() const { return error_; }
  bool drain() {
    bool ok = write_all(pbase(), static_cast<size_t>(pptr() - pbase()));
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return ok;
  }

 protected:
  int_type overflow(int_type ch) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    // Large blocks (tensor data) skip the buffer instead of being copied through it.
    if (n < static_cast<std::streamsize>(buffer_.size()) / 2) return std::streambuf::xsputn(s, n);
    if (!drain() || !write_all(s, static_cast<size_t>(n))) return 0;
    return n;
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool write_all(const char* p, size_t n) {
    if (error_) return false;
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

// Makes a rename durable: the directory entry itself must reach the disk.
void fsync_parent_dir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: some file systems do not allow it
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

struct AtomicOutput::Impl {
  std::string target;  // the file written (symbolic links followed)
  std::string tmp;     // empty when writing through (a device, FIFO or descriptor)
  int fd = -1;
  FdBuf buf;
  std::ostream os;
  std::unique_ptr<TempFileGuard> guard;  // removes `tmp` if a signal ends the process
  Impl(std::string target_path, std::string tmp_path, int descriptor)
      : target(std::move(target_path)), tmp(std::move(tmp_path)), fd(descriptor),
        buf(descriptor), os(&buf) {}

  // Closes and deletes the temp file; never throws (used on error paths and in destructors).
  void discard() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
    if (!tmp.empty()) ::unlink(tmp.c_str());
    guard.reset();
  }
};

AtomicOutput::AtomicOutput(const std::string& path) : path_(path) {
  const OutputTarget target = resolve_output(path);
  if (target.kind == OutputTarget::Kind::kStdout) return;
  if (target.kind == OutputTarget::Kind::kStream) {
    // A device, FIFO or descriptor cannot be replaced: write straight to it (a FIFO waits here
    // for its reader, as any writer would).
    int fd = ::open(target.path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      fail("cannot write '{}': {}", path, errno_text(err));
    }
    impl_ = std::make_unique<Impl>(target.path, std::string(), fd);
    return;
  }
  std::string tmp = temp_path_for(target.path);
  auto guard = std::make_unique<TempFileGuard>(tmp);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    int err = errno;
    fail("cannot write '{}': cannot create the temp file '{}': {} (check that the folder exists "
         "and is writable)",
         path, tmp, errno_text(err));
  }
  // Replacing a file keeps its permission bits (a private checkpoint stays private).
  struct stat old {};
  if (::stat(target.path.c_str(), &old) == 0 && S_ISREG(old.st_mode))
    ::fchmod(fd, old.st_mode & 07777);
  impl_ = std::make_unique<Impl>(target.path, tmp, fd);
  impl_->guard = std::move(guard);
}

AtomicOutput::~AtomicOutput() {
  if (impl_ && !committed_) impl_->discard();
}

std::ostream& AtomicOutput::stream() { return impl_ ? impl_->os : std::cout; }

void AtomicOutput::commit() {
  if (committed_) return;
  if (!impl_) {
    std::cout.flush();
    if (!std::cout) fail("cannot write the output to stdout (is the pipe closed?)");
    committed_ = true;
    return;
  }
  Impl& im = *impl_;
  const bool through = im.tmp.empty();
  // Each step records why it failed; the first failure wins.
  std::string reason;
  im.os.flush();
  if (!im.buf.drain() || !im.os) {
    reason = im.buf.error() ? errno_text(im.buf.error()) : "the output stream failed";
  } else if (!through && ::fsync(im.fd) != 0) {
    reason = "fsync failed: " + errno_text(errno);
  } else {
    int fd = im.fd;
    im.fd = -1;
    if (::close(fd) != 0) reason = "close failed: " + errno_text(errno);
    else if (!through && ::rename(im.tmp.c_str(), im.target.c_str()) != 0)
      reason = "cannot rename '" + im.tmp + "' over it: " + errno_text(errno);
  }
  if (!reason.empty()) {
    im.discard();
    committed_ = true;  // nothing left to clean up in the destructor
    fail("cannot write '{}': {}{}", path_, reason,
         through ? "" : "; the previous content (if any) is unchanged");
  }
  im.guard.reset();
  committed_ = true;
  if (!through) fsync_parent_dir(im.target);
}

void write_file_atomic(const std::string& path,
                       const std::function<void(std::ostream&)>& writer) {
  AtomicOutput out(path);
  writer(out.stream());  // a throw here leaves `out` uncommitted: its destructor cleans up
  out.commit();
}

}  // namespace attnmt
