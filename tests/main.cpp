// Catch2's main for the one test executable (with the same process settings as the program).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "cli/process.h"

int main(int argc, char** argv) {
  attnmt::setup_process(argv);
  return Catch::Session().run(argc, argv);
}
