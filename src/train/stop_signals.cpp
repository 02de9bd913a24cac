// The training command's SIGINT/SIGTERM handlers: a flag, a note, and a way out.
#include "train/stop_signals.h"

#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "io/temp_files.h"
#include "train/cluster.h"

namespace attnmt {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
const char* g_stop_note = nullptr;

extern "C" void on_stop_signal(int sig) {
  if (g_stop_signal) remove_temp_files_and_die(sig);
  g_stop_signal = sig;
  if (g_stop_note)
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, g_stop_note, std::strlen(g_stop_note));
}

}  // namespace

StopSignals::StopSignals(const std::string& checkpoint_path) {
  g_stop_signal = 0;
  if (!cluster::distributed())
    note_ = "\nattnmt train: stopping after this step, with a checkpoint (a second signal stops "
            "at once)\n";
  else if (cluster::rank() == 0)
    note_ = fmt::format(
        "\nattnmt train: a signal under mpirun: the job stops after this step with a "
        "checkpoint if every rank can finish it; when a rank has died, or mpirun ends the job "
        "first, the last checkpoint written, {}, stays intact: the same mpirun command with "
        "--resume continues from it\n",
        checkpoint_path);
  g_stop_note = note_.empty() ? nullptr : note_.c_str();
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

StopSignals::~StopSignals() {
  g_stop_note = nullptr;
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

int StopSignals::received() { return g_stop_signal; }

}  // namespace attnmt
