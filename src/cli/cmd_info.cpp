// attnmt info: placeholder until its issue lands (the owner replaces this file).
#include "cli/commands.h"
#include "tensor/error.h"

namespace attnmt::cli {

int run_info(int, char**) { fail("'attnmt info' is not built yet"); }

}  // namespace attnmt::cli
