// attnmt align: placeholder until its issue lands (the owner replaces this file).
#include "cli/commands.h"
#include "tensor/error.h"

namespace attnmt::cli {

int run_align(int, char**) { fail("'attnmt align' is not built yet"); }

}  // namespace attnmt::cli
