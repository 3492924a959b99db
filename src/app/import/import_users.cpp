// Section 2 of the import: users, with bcrypt password hashes kept (app/import/import_run.h).
#include <algorithm>
#include <cctype>
#include <set>

#include "app/import/import_run.h"
#include "core/utc_time.h"

namespace facecrowd {
namespace {

bool is_bcrypt(const std::string& h) {
  return h.size() == 60 && (h.rfind("$2a$", 0) == 0 || h.rfind("$2b$", 0) == 0 || h.rfind("$2y$", 0) == 0);
}

bool valid_username(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@';
  });
}

}  // namespace

// 2. Users.
void import_users(ImportRun& run) {
  for (const auto& [c, m] : run.first("users")) {
    run.say("importing " + c->name);
    auto& r = run.report_for(c, m);
    std::set<std::string> taken;
    for_each_mapped_document(*c, *m, [&](MappedDocument& d) {
      std::string why;
      auto username = mapped_text(d, *m, "username", why);
      auto role = username ? mapped_text(d, *m, "role", why) : std::nullopt;
      if (!username || !role) {
        refuse(r, d.id_key(), why);
        return;
      }
      if (!claim_id(run, r, d, m->as)) return;
      if (!valid_username(*username)) {
        refuse(r, d.id_key(), "username '" + *username + "' is not 1-64 letters, digits, '.', '_', '-' or '@'");
        return;
      }
      if (*role != "admin" && *role != "operator" && *role != "viewer") {
        refuse(r, d.id_key(), "role '" + *role + "' is not admin, operator or viewer (map it in \"values\")");
        return;
      }
      if (!taken.insert(*username).second) {
        refuse(r, d.id_key(), "username '" + *username + "' is used by an earlier document");
        return;
      }
      std::string hash;
      if (auto h = d.field("passwordHash")) {
        auto text = import_text(*h);
        if (text && is_bcrypt(*text)) hash = *text;
        else d.keep_in_legacy("passwordHash");
      }
      if (hash.empty()) r.notes.push_back("user '" + *username + "' has no bcrypt password hash: set one with `facecrowd users reset-password " + *username + " --password-stdin`");
      const int64_t now = now_millis();
      bson_t* out = bson_new();
      d.append_id(out);
      BSON_APPEND_UTF8(out, "kind", "user");
      BSON_APPEND_UTF8(out, "username", username->c_str());
      if (auto e = d.field("email")) {
        if (auto t = import_text(*e)) BSON_APPEND_UTF8(out, "email", t->c_str());
      }
      BSON_APPEND_UTF8(out, "role", role->c_str());
      if (!hash.empty()) BSON_APPEND_UTF8(out, "passwordHash", hash.c_str());
      auto dis = d.field("disabled");
      BSON_APPEND_BOOL(out, "disabled", dis ? import_bool(*dis).value_or(false) : false);
      BSON_APPEND_DATE_TIME(out, "createdAt", mapped_date(d, "createdAt").value_or(now));
      BSON_APPEND_DATE_TIME(out, "updatedAt", mapped_date(d, "updatedAt").value_or(now));
      d.append_legacy(out);
      count_legacy(r, d);
      run.writer.insert("users", out);
      run.usernames[d.id_key()] = *username;
      r.imported++;
    });
    run.writer.commit();
  }
}

}  // namespace facecrowd
