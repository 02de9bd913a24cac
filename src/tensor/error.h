// Error: the one exception type a user sees. Its message says what is wrong and, where it can,
// the file, the line and what to do. The CLI prints it and exits non-zero.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace attnmt {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

#define ATTNMT_CHECK(cond, ...)        \
  do {                                 \
    if (!(cond)) ::attnmt::fail(__VA_ARGS__); \
  } while (0)

}  // namespace attnmt
