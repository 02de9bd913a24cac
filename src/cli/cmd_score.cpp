// attnmt score: placeholder until its issue lands (the owner replaces this file).
#include "cli/commands.h"
#include "tensor/error.h"

namespace attnmt::cli {

int run_score(int, char**) { fail("'attnmt score' is not built yet"); }

}  // namespace attnmt::cli
