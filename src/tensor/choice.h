// Choices: an option that takes one of a few names (an architecture, an attention type, a
// schedule, a storage dtype ...) is an enum with ONE name table. Parsing, printing, --help,
// config files and the model file all read that table, so a name is written once. The table
// is a function `choices(E)` next to the enum (found by argument-dependent lookup):
//
//   enum class Fruit { kApple, kPear };
//   constexpr ChoiceTable<Fruit, 2> choices(Fruit) {
//     return {"fruit", {{Fruit::kApple, "apple"}, {Fruit::kPear, "pear"}}};
//   }
//
// Strings are compared only here, at the boundary; the rest of the code switches on the enum.
// Not here: the command-line plumbing (cli/options.h adapts any such enum to Boost).
#pragma once

#include <array>
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

// `what` names the kind in messages ("architecture"); `names` lists value and name.
template <typename E, size_t N>
struct ChoiceTable {
  constexpr ChoiceTable(std::string_view what_, const Choice<E> (&names_)[N]) : what(what_) {
    for (size_t i = 0; i < N; ++i) names[i] = names_[i];
  }
  std::string_view what;
  std::array<Choice<E>, N> names{};
};

// A table built at run time (the architectures': models/registry.cpp).
template <typename E>
struct ChoiceSpan {
  std::string_view what;
  std::span<const Choice<E>> names;
};

template <typename E>
concept HasChoices = std::is_enum_v<E> && requires(E e) {
  { choices(e).what } -> std::convertible_to<std::string_view>;
  { choices(e).names.size() } -> std::convertible_to<size_t>;
};

template <HasChoices E>
std::string_view choice_what() {
  return choices(E{}).what;
}

// "lstm or transformer", "dot, general or additive"; ("|", "|") gives "dot|general|additive".
template <HasChoices E>
std::string choice_list(std::string_view sep = ", ", std::string_view last_sep = " or ") {
  std::string s;
  const auto table = choices(E{});
  for (size_t i = 0; i < table.names.size(); ++i) {
    if (i) s += i + 1 == table.names.size() ? last_sep : sep;
    s += table.names[i].name;
  }
  return s;
}

template <HasChoices E>
std::string_view name_of(E value) {
  for (const auto& c : choices(value).names)
    if (c.value == value) return c.name;
  fail("{} #{} has no name (a missing entry in its choices table)", choice_what<E>(),
       static_cast<int>(value));
}

// The value named `name`, or throws Error "unknown <what> 'x': choose a, b or c". `context`
// (e.g. "--arch" or "model setting 'arch'") leads the message when given.
template <HasChoices E>
E parse_choice(std::string_view name, std::string_view context = {}) {
  for (const auto& c : choices(E{}).names)
    if (c.name == name) return c.value;
  fail("{}unknown {} '{}': choose {}",
       context.empty() ? std::string() : std::string(context) + ": ", choice_what<E>(), name,
       choice_list<E>());
}

}  // namespace attnmt
