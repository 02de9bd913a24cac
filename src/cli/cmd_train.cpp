// attnmt train: placeholder until its issue lands (the owner replaces this file).
#include "cli/commands.h"
#include "tensor/error.h"

namespace attnmt::cli {

int run_train(int, char**) { fail("'attnmt train' is not built yet"); }

}  // namespace attnmt::cli
