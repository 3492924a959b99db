#include "core/display_text.h"

#include <cstdint>
#include <cstdio>

namespace facecrowd {
namespace {

// Decodes one UTF-8 sequence at text[i]; returns its length, 0 when malformed.
size_t utf8_sequence(std::string_view text, size_t i, uint32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  size_t len;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool is_control(uint32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F); }

}  // namespace

std::optional<size_t> invalid_utf8_offset(std::string_view text) {
  uint32_t cp;
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_sequence(text, i, cp);
    if (len == 0) return i;
    i += len;
  }
  return std::nullopt;
}

bool has_control_character(std::string_view text) {
  uint32_t cp;
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_sequence(text, i, cp);
    if (len == 0) {
      ++i;
      continue;
    }
    if (is_control(cp)) return true;
    i += len;
  }
  return false;
}

std::string for_terminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  uint32_t cp;
  char buf[16];
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_sequence(text, i, cp);
    if (len == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(text[i]));
      out += buf;
      ++i;
      continue;
    }
    if (cp == '\n') out += "\\n";
    else if (cp == '\t') out += "\\t";
    else if (cp == '\r') out += "\\r";
    else if (cp == '\\' ) out += "\\\\";
    else if (cp < 0x80 && is_control(cp)) {
      std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(cp));
      out += buf;
    } else if (is_control(cp)) {
      std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(cp));
      out += buf;
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string shortened(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return for_terminal(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a sequence
  return for_terminal(text.substr(0, cut)) + "... (" + std::to_string(text.size()) + " bytes in all)";
}

}  // namespace facecrowd
