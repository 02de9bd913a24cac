// Atomic file output: a file either keeps its old content or gets the complete new content,
// never half of it. Data goes to `<path>.tmp.<pid>` in the same folder, is flushed and fsynced,
// then renamed over `<path>` (rename is atomic within one file system). On any error the temp
// file is removed and attnmt::Error names the path and the reason ("No space left on device").
// The path "-" (or "", or /dev/stdout) means stdout, written directly: there is nothing to
// rename. A symbolic link is followed: its target is replaced and the link stays. A device,
// FIFO or socket (/dev/null, a named pipe) is written straight through, never replaced.
// A signal that ends the process removes the temp file (temp_files.h).
// Not here: what is written (the model file format is in model_file.h).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace attnmt {

// True when `path` names stdout ("-" or empty).
inline bool is_stdout_path(const std::string& path) { return path.empty() || path == "-"; }

// Calls writer(stream) on a temp file, then commits it to `path`. If the writer throws, the
// temp file is removed, `path` is untouched and the writer's exception propagates unchanged.
void write_file_atomic(const std::string& path,
                       const std::function<void(std::ostream&)>& writer);

// Streaming form, for outputs produced piece by piece (translations):
//   AtomicOutput out(path);
//   out.stream() << line << '\n';  ...
//   out.commit();                  // without it, the destructor removes the temp file
class AtomicOutput {
 public:
  explicit AtomicOutput(const std::string& path);  // throws Error when the temp file cannot be made
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  std::ostream& stream();
  // Flushes, fsyncs and renames over the target; throws Error (and removes the temp file) on
  // failure. A second call is a no-op.
  void commit();
  const std::string& path() const { return path_; }
  bool committed() const { return committed_; }

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;  // null when writing to stdout
  bool committed_ = false;
};

}  // namespace attnmt
