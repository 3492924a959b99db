#include "core/utc_time.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace facecrowd {
namespace {

bool read_int(const std::string& s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  for (size_t i = pos; i < pos + len; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return true;
}

std::optional<UnixMillis> from_fields(int y, int mo, int d, int h, int mi, int s) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t t = timegm(&tm);
  if (tm.tm_mday != d) return std::nullopt;  // timegm normalised an impossible date such as Feb 30
  return UnixMillis(t) * 1000;
}

std::tm to_tm(UnixMillis t) {
  time_t secs = t >= 0 ? t / 1000 : (t - 999) / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

}  // namespace

UnixMillis now_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_iso8601(UnixMillis t) {
  std::tm tm = to_tm(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(((t % 1000) + 1000) % 1000));
  return buf;
}

std::string format_compact(UnixMillis t) {
  std::tm tm = to_tm(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d_%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::optional<UnixMillis> parse_iso8601(const std::string& s) {
  int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
  if (!read_int(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !read_int(s, 5, 2, mo) || s[7] != '-' ||
      !read_int(s, 8, 2, d))
    return std::nullopt;
  size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    if (!read_int(s, pos + 1, 2, h) || s.size() < pos + 6 || s[pos + 3] != ':' || !read_int(s, pos + 4, 2, mi))
      return std::nullopt;
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!read_int(s, pos + 1, 2, sec)) return std::nullopt;
      pos += 3;
      if (pos < s.size() && s[pos] == '.') {
        size_t start = ++pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
        if (pos == start) return std::nullopt;
        std::string frac = s.substr(start, 3);
        while (frac.size() < 3) frac += '0';
        ms = std::stoi(frac);
      }
    }
  }
  int offset_minutes = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      ++pos;
    } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
      int oh, om;
      if (!read_int(s, pos + 1, 2, oh) || !read_int(s, pos + 4, 2, om)) return std::nullopt;
      offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
      pos = s.size();
    } else {
      return std::nullopt;
    }
  }
  auto base = from_fields(y, mo, d, h, mi, sec);
  if (!base) return std::nullopt;
  return *base + ms - int64_t(offset_minutes) * 60'000;
}

std::optional<UnixMillis> parse_compact(const std::string& s) {
  int y, mo, d, h, mi, sec;
  if (s.size() != 15 || s[8] != '_' || !read_int(s, 0, 4, y) || !read_int(s, 4, 2, mo) ||
      !read_int(s, 6, 2, d) || !read_int(s, 9, 2, h) || !read_int(s, 11, 2, mi) || !read_int(s, 13, 2, sec))
    return std::nullopt;
  return from_fields(y, mo, d, h, mi, sec);
}

std::optional<int64_t> parse_duration_seconds(const std::string& text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr == text.data() || value < 0) return std::nullopt;
  std::string unit(ptr, text.data() + text.size());
  if (unit.empty() || unit == "s") return value;
  if (unit == "m" || unit == "min") return value * 60;
  if (unit == "h") return value * 3600;
  if (unit == "d") return value * 86400;
  if (unit == "mo") return value * 30 * 86400;
  if (unit == "y") return value * 365 * 86400;
  return std::nullopt;
}

}  // namespace facecrowd
