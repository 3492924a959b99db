// A CLI11 check for a count flag (days, months): the text itself must be a whole number in range, written in
// plain decimal digits. CLI11's own Range converts first, so '0x10' became 16 and ' 3' became 3 without a
// word, and 'abc' was reported as "not in range"; here each is refused naming what was given and what is taken.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "core/display_text.h"

namespace facecrowd {

// `unit` names what the number counts ("days"), for the message.
inline CLI::Validator whole_number_in(int64_t low, int64_t high, const std::string& unit) {
  return CLI::Validator(
      [low, high, unit](std::string& text) -> std::string {
        bool digits = !text.empty() && text.size() <= 18;
        for (char c : text) digits = digits && c >= '0' && c <= '9';
        if (digits) {
          const int64_t value = std::stoll(text);
          if (value >= low && value <= high) return {};
        }
        return "'" + shortened(text, 40) + "' is not a whole number of " + unit + " from " + std::to_string(low) + " to " +
               std::to_string(high) + " (plain digits); nothing was written";
      },
      "INT in [" + std::to_string(low) + " - " + std::to_string(high) + "]");
}

}  // namespace facecrowd
