// attnmt translate: placeholder until its issue lands (the owner replaces this file).
#include "cli/commands.h"
#include "tensor/error.h"

namespace attnmt::cli {

int run_translate(int, char**) { fail("'attnmt translate' is not built yet"); }

}  // namespace attnmt::cli
