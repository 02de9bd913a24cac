// Choices: an option that takes one of a few names (an architecture, an attention type, a
// schedule, a storage dtype ...) is an enum with ONE name table. Parsing, printing, --help,
// config files and the model file all read that table, so a name is written once.
//
//   enum class Fruit { kApple, kPear };
//   template <> struct Choices<Fruit> {
//     static constexpr std::string_view what = "fruit";  // for messages
//     static std::span<const Choice<Fruit>> all() {
//       static constexpr Choice<Fruit> table[] = {{Fruit::kApple, "apple"}, {Fruit::kPear, "pear"}};
//       return table;
//     }
//   };
//
// Strings are compared only here, at the boundary; the rest of the code switches on the enum.
// Not here: the command-line plumbing (cli/options.h adapts any Choices enum to Boost).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "tensor/error.h"

namespace attnmt {

template <typename E>
struct Choice {
  E value;
  std::string_view name;
};

template <typename E>
struct Choices;  // specialised next to each enum

template <typename E>
concept HasChoices = requires {
  { Choices<E>::all() } -> std::convertible_to<std::span<const Choice<E>>>;
  { Choices<E>::what } -> std::convertible_to<std::string_view>;
};

// "lstm or transformer", "dot, general or additive"; ("|", "|") gives "dot|general|additive".
template <HasChoices E>
std::string choice_list(std::string_view sep = ", ", std::string_view last_sep = " or ") {
  std::string s;
  auto all = Choices<E>::all();
  for (size_t i = 0; i < all.size(); ++i) {
    if (i) s += i + 1 == all.size() ? last_sep : sep;
    s += all[i].name;
  }
  return s;
}

template <HasChoices E>
std::string_view name_of(E value) {
  for (const auto& c : Choices<E>::all())
    if (c.value == value) return c.name;
  fail("{} #{} has no name (a missing entry in its Choices table)", Choices<E>::what,
       static_cast<int>(value));
}

// The value named `name`, or throws Error "unknown <what> 'x': choose a, b or c". `context`
// (e.g. "--arch" or "model file m.attnmt") leads the message when given.
template <HasChoices E>
E parse_choice(std::string_view name, std::string_view context = {}) {
  for (const auto& c : Choices<E>::all())
    if (c.name == name) return c.value;
  fail("{}unknown {} '{}': choose {}",
       context.empty() ? std::string() : std::string(context) + ": ", Choices<E>::what, name,
       choice_list<E>());
}

}  // namespace attnmt
