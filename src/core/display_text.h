// Text from operators and from stored records, checked on the way in and escaped on the way out.
//  - facecrowd stores text as UTF-8 (BSON and JSON require it): invalid_utf8_offset() finds where a byte
//    sequence stops being UTF-8, so the CLI refuses it naming the argument (exit 3), instead of failing
//    deep inside the JSON/BSON encoder.
//  - Terminal control: a name holding ESC [ … or a newline would recolour or break the operator's
//    table; for_terminal() prints every control character (C0, DEL, C1) and every invalid byte escaped
//    (\n, \t, \x1b, \u009b), so one field is always one line of plain text.
//  - Echoed input is shortened (shortened()), so a 120 KB --query is not printed whole in an error.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace facecrowd {

// The offset of the first byte that is not part of well-formed UTF-8 (overlong forms, surrogates and
// code points above U+10FFFF are not); nullopt when all of `text` is UTF-8.
std::optional<size_t> invalid_utf8_offset(std::string_view text);

// True when `text` holds a C0 control character (U+0000-U+001F), DEL or a C1 control (U+0080-U+009F).
bool has_control_character(std::string_view text);

// `text` with control characters and invalid bytes escaped, safe to print on a terminal.
std::string for_terminal(std::string_view text);

// At most `max_bytes` of `text` (cut at a UTF-8 boundary) for an error message, escaped as for_terminal,
// with "... (N bytes in all)" appended when cut.
std::string shortened(std::string_view text, size_t max_bytes = 200);

}  // namespace facecrowd
