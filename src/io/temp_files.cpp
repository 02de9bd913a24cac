// The temp-file registry and its signal handler. See temp_files.h.
// The handler may only call async-signal-safe functions: it reads fixed slots (no allocation,
// no locks) and calls unlink() and raise().
#include "io/temp_files.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

namespace attnmt {

namespace {

constexpr int kSlots = 16;
constexpr size_t kMaxPath = 4096;

enum SlotState : int { kFree = 0, kFilling = 1, kActive = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  char path[kMaxPath];
};
Slot g_slots[kSlots];

extern "C" void on_termination_signal(int sig) { remove_temp_files_and_die(sig); }

}  // namespace

void remove_registered_temp_files() noexcept {
  for (Slot& s : g_slots)
    if (s.state.load(std::memory_order_acquire) == kActive) ::unlink(s.path);
}

void remove_temp_files_and_die(int sig) noexcept {
  remove_registered_temp_files();
  // Die of the same signal (exit status 128 + sig), with the default action back in place
  // even if someone re-installed this handler without SA_RESETHAND.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, sig);
  ::sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
  ::raise(sig);
  ::_exit(128 + sig);  // not reached: the default action of these signals ends the process
}

std::string temp_path_for(const std::string& target) {
  return target + ".tmp." + std::to_string(::getpid());
}

TempFileGuard::TempFileGuard(const std::string& path) {
  if (path.size() >= kMaxPath) return;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!g_slots[i].state.compare_exchange_strong(expected, kFilling)) continue;
    std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
    g_slots[i].state.store(kActive, std::memory_order_release);
    slot_ = i;
    return;
  }
}

TempFileGuard::~TempFileGuard() {
  if (slot_ >= 0) g_slots[slot_].state.store(kFree, std::memory_order_release);
}

void install_temp_file_cleanup() {
  struct sigaction sa {};
  sa.sa_handler = on_termination_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    // A signal the parent chose to ignore (nohup, a shell's background job) stays ignored.
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &sa, nullptr);
  }
}

std::vector<std::string> remove_stale_temp_files(const std::string& target) {
  namespace fs = std::filesystem;
  std::vector<std::string> removed;
  const fs::path t(target);
  const fs::path folder = t.parent_path().empty() ? fs::path(".") : t.parent_path();
  const std::string prefix = t.filename().string() + ".tmp.";
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix) || name.size() == prefix.size()) continue;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    long pid = 0;
    auto [end_of_number, err] = std::from_chars(first, last, pid);
    if (err != std::errc() || end_of_number != last || pid <= 0) continue;
    if (pid == ::getpid()) continue;
    // ESRCH: no such process. EPERM means it runs under another user: leave its file alone.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code rm;
    // Named as the user named the target: "out.txt.tmp.123", not "./out.txt.tmp.123".
    const fs::path named = t.parent_path().empty() ? fs::path(name) : it->path();
    if (fs::remove(it->path(), rm)) removed.push_back(named.string());
  }
  return removed;
}

}  // namespace attnmt
