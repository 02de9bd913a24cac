// Catch2's main for the one test executable (with the same OpenMP tuning as the program).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "tensor/threads.h"

int main(int argc, char** argv) {
  attnmt::tune_openmp_wait(argv);
  return Catch::Session().run(argc, argv);
}
