// SIGINT and SIGTERM while training: the first stops training after the current step, with a
// checkpoint; a second one (the step is taking too long, or the user insists) ends the process
// at once, removing the temp file of a checkpoint being written. Under mpirun only rank 0 says
// so, and says what a signal there usually means (mpirun ending the job).
// Not here: what the trainer does when asked to stop (train/trainer.cpp).
#pragma once

#include <signal.h>

#include <string>

namespace attnmt {

// Installs the handlers for its lifetime, and puts the old ones back after.
class StopSignals {
 public:
  explicit StopSignals(const std::string& checkpoint_path);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal received since the handlers were installed, or 0.
  static int received();

 private:
  struct sigaction old_int_ {}, old_term_ {};
  std::string note_;
};

}  // namespace attnmt
