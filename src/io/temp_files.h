// Temporary files of atomic writes (`<target>.tmp.<pid>`) that must not outlive the process:
// a live registry that a SIGINT/SIGTERM/SIGHUP handler empties before the process dies, and
// the clean-up of those left by processes that did die (kill -9, a power cut).
// Not here: the atomic write itself (atomic_file.h).
#pragma once

#include <string>
#include <vector>

namespace attnmt {

// The temp-file name of an atomic write of `target` by this process.
std::string temp_path_for(const std::string& target);

// Registers `path` for removal if a termination signal arrives while the object lives.
class TempFileGuard {
 public:
  explicit TempFileGuard(const std::string& path);
  ~TempFileGuard();
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;

 private:
  int slot_ = -1;  // -1 when the registry was full (the file is then only cleaned up later)
};

// Installs the handlers for SIGINT, SIGTERM and SIGHUP that remove the registered temp files
// and then end the process as the signal would have (a command that handles these signals
// itself, like train, puts its own handlers in their place and back).
void install_temp_file_cleanup();

// Removes the registered temp files now (async-signal-safe: for signal handlers and for a
// process about to _exit after a fatal error).
void remove_registered_temp_files() noexcept;
// Removes them and ends the process by `sig` with its default action (for signal handlers).
[[noreturn]] void remove_temp_files_and_die(int sig) noexcept;

// Removes `<target>.tmp.<pid>` files whose process no longer runs; returns their paths.
std::vector<std::string> remove_stale_temp_files(const std::string& target);

}  // namespace attnmt
