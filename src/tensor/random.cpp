#include "tensor/random.h"

#include <sstream>

#include "tensor/error.h"

namespace attnmt {

std::string Rng::state() const {
  std::ostringstream out;
  out << engine_;
  return out.str();
}

void Rng::set_state(const std::string& s) {
  std::istringstream in(s);
  in >> engine_;
  ATTNMT_CHECK(!in.fail(), "cannot restore the random generator state");
}

}  // namespace attnmt
