#include "store/ledger_fingerprint.h"

#include "core/sha256.h"
#include "store/sqlite_util.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

constexpr const char* kMetaKey = "erasure_ledger";

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

// Calls fn(end of line incl. '\n') for each complete non-blank line until fn returns false.
template <typename Fn>
void for_each_complete_line(std::string_view text, bool* torn, Fn fn) {
  size_t pos = 0;
  if (torn) *torn = false;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      if (torn) *torn = !blank(text.substr(pos));
      return;
    }
    bool counted = !blank(text.substr(pos, end - pos));
    pos = end + 1;
    if (counted && !fn(pos)) return;
  }
}

}  // namespace

std::optional<LedgerFingerprint> LedgerFingerprint::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("entries") || !j["entries"].is_number_integer() || !j.contains("sha256") ||
      !j["sha256"].is_string())
    return std::nullopt;
  LedgerFingerprint f{j["entries"].get<int64_t>(), j["sha256"].get<std::string>()};
  if (f.entries < 0 || f.sha256.size() != 64) return std::nullopt;
  return f;
}

std::string LedgerFingerprint::text() const {
  return counted(entries, "entry", "entries") + ", sha256 " + sha256.substr(0, 12) + "…";
}

int64_t ledger_complete_lines(std::string_view text, bool* torn) {
  int64_t n = 0;
  for_each_complete_line(text, torn, [&](size_t) { return ++n, true; });
  return n;
}

LedgerFingerprint fingerprint_ledger(std::string_view text) {
  LedgerFingerprint f;
  size_t end = 0;
  for_each_complete_line(text, nullptr, [&](size_t e) {
    ++f.entries;
    end = e;
    return true;
  });
  f.sha256 = sha256_hex(text.substr(0, end));
  return f;
}

bool ledger_starts_with(std::string_view text, const LedgerFingerprint& record) {
  if (record.entries == 0) return true;  // every ledger starts with nothing
  int64_t n = 0;
  size_t end = std::string_view::npos;
  for_each_complete_line(text, nullptr, [&](size_t e) {
    if (++n == record.entries) {
      end = e;
      return false;
    }
    return true;
  });
  return end != std::string_view::npos && sha256_hex(text.substr(0, end)) == record.sha256;
}

std::optional<LedgerFingerprint> recorded_ledger(Database& db) {
  Statement st(db.handle(), "SELECT value FROM meta WHERE key = ?");
  st.bind(1, std::string_view(kMetaKey));
  if (!st.step("reading the erasure ledger's fingerprint from database '" + db.name() + "'")) return std::nullopt;
  return LedgerFingerprint::from_json(nlohmann::json::parse(st.column_text(0), nullptr, false));
}

void record_ledger(Database& db, const LedgerFingerprint& fingerprint) {
  Statement st(db.handle(), "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
  st.bind(1, std::string_view(kMetaKey)).bind(2, std::string_view(fingerprint.to_json().dump()));
  st.step("recording the erasure ledger's fingerprint in database '" + db.name() + "'");
}

}  // namespace facecrowd
