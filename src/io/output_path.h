// Output paths: what a path given to -o really names, and the checks every command makes on
// its outputs before any work, so that a wrong path fails at once and not after an hour of
// training, and an output never destroys an input. Also the lock that keeps two trainings from
// writing the same model.
// Not here: writing (atomic_file.h), temp files (temp_files.h).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attnmt {

// Where the bytes of an output go.
struct OutputTarget {
  enum class Kind {
    kStdout,   // "-", "", /dev/stdout: the process's standard output
    kReplace,  // a regular file (or a new one): written to a temp file, renamed over it
    kStream,   // a character device, FIFO or socket, or /dev/fd/N: opened and written through
  };
  Kind kind = Kind::kStdout;
  std::string path;  // the file to replace (symbolic links followed: the link stays) or open
};
OutputTarget resolve_output(const std::string& path);

// A path and the option (or role) that named it, for messages: {"-o", "model.attnmt"}.
struct NamedPath {
  std::string_view option;
  std::string path;
};

// Checks, before any work, that `out` can be written: it is not a folder, its folder exists and
// is writable (or, for a device or FIFO, it is writable itself), and it is not the same file
// (device and inode, so links and other spellings count) as any of `inputs`. Throws
// attnmt::Error saying which option and what to do. Then removes temp files of this output
// left by processes that died, and returns their paths (for a note).
std::vector<std::string> check_output(const NamedPath& out, std::span<const NamedPath> inputs = {});

// An exclusive lock on `path` (created, holding this process's id), released and removed when
// the object dies; throws attnmt::Error naming the holder when another process has it.
class FileLock {
 public:
  FileLock(const std::string& path, std::string_view what);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace attnmt
