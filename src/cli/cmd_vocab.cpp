// attnmt vocab: placeholder until its issue lands (the owner replaces this file).
#include "cli/commands.h"
#include "tensor/error.h"

namespace attnmt::cli {

int run_vocab(int, char**) { fail("'attnmt vocab' is not built yet"); }

}  // namespace attnmt::cli
