// `facecrowd users add|list|disable|enable|reset-password` and `facecrowd users key add|list|revoke`
// (app/users/users.h). Passwords are read from stdin only (--password-stdin): never from argv, where `ps` and
// shell history would show them. Nothing here prints a password or a hash; an API key is printed once.
#include <termios.h>
#include <unistd.h>

#include <iomanip>
#include <iostream>

#include "app/records/audit.h"
#include "app/users/users.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/secret.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

// One line from stdin (without its newline), wiped when the Secret goes.
Secret read_password_stdin() {
  std::string line;
  if (!std::getline(std::cin, line) || line.empty()) {
    wipe_string(line);
    throw Error(ExitCode::kUsage, "--password-stdin: no password on stdin (e.g. printf '%s\\n' \"$PW\" | facecrowd users add ...)");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return Secret(std::move(line));
}

Actor cli_actor() { return Actor{default_audit_actor(), "local"}; }

std::string cell(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("$date")) return cell(j["$date"]);
  return j.is_null() ? "-" : j.dump();
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    std::string name, role, key_id;
    bool password_stdin = false, json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* users = app.add_subcommand(
      "users",
      "Accounts and camera API keys for `facecrowd serve`: roles admin (everything), operator (enroll,\n"
      "recognize, crowd, people), viewer (read), and camera keys (upload photos for recognition and crowd\n"
      "counting only). There is no default account or password: create the first admin here.");
  users->require_subcommand(1);
  auto open_db = [&globals, opts](bool create) {
    return Database::open(DataDir::open(globals.data_dir), opts->db, {.create_if_missing = create});
  };

  auto* add = users->add_subcommand(
      "add",
      "Create a user. The password (12+ characters) is read from stdin, never from the command line.\n"
      "Examples:\n"
      "  printf '%s\\n' \"$ADMIN_PASSWORD\" | facecrowd users add admin --role admin --password-stdin\n"
      "  facecrowd users add ana --role operator --password-stdin < ana.pw");
  add->add_option("NAME", opts->name, "user name (letters, digits, . _ - @)")->required();
  add->add_option("--role", opts->role, "admin, operator or viewer")->required()->check(CLI::IsMember({"admin", "operator", "viewer"}));
  add->add_flag("--password-stdin", opts->password_stdin, "read the password from stdin (required)")->required();
  add->add_option("--db", opts->db, "database")->capture_default_str();
  add->add_flag("--json", opts->json, "print {id, username, role}");
  add->callback([opts, open_db] {
    Role role = parse_user_role(opts->role);
    Secret password = read_password_stdin();
    auto db = open_db(true);
    std::string id = add_user(*db, opts->name, role, password.reveal(), cli_actor());
    if (opts->json) std::cout << created_user_json(id, opts->name, role).dump() << "\n";
    else std::cout << "created " << opts->role << " '" << opts->name << "' (" << id << ")\n";
  });

  auto* list = users->add_subcommand("list", "List users and API keys (role, disabled/revoked); never a hash");
  list->add_option("--db", opts->db, "database")->capture_default_str();
  list->add_flag("--json", opts->json, "print a JSON array");
  list->callback([opts, open_db] {
    auto db = open_db(false);
    auto tx = db->read();
    auto rows = list_users(tx);
    if (opts->json) {
      std::cout << rows.dump(2) << "\n";
      return;
    }
    std::cout << std::left << std::setw(26) << "id" << std::setw(8) << "kind" << std::setw(24) << "name" << std::setw(10)
              << "role" << "state\n";
    for (const auto& r : rows) {
      bool key = r["kind"] == "apikey";
      std::cout << std::left << std::setw(26) << cell(r["id"]) << std::setw(8) << cell(r["kind"]) << std::setw(24)
                << cell(key ? r["name"] : r["username"]) << std::setw(10) << cell(r["role"])
                << (key ? (r["revoked"].get<bool>() ? "revoked" : "active") : (r["disabled"].get<bool>() ? "disabled" : "active"))
                << "\n";
    }
    if (rows.empty()) std::cerr << "no users yet: facecrowd users add NAME --role admin --password-stdin\n";
  });

  for (bool disable : {true, false}) {
    auto* cmd = users->add_subcommand(disable ? "disable" : "enable",
                                      disable ? "Disable a user: logins fail, and a running server refuses its sessions at once"
                                              : "Enable a disabled user again");
    cmd->add_option("NAME", opts->name, "user name")->required();
    cmd->add_option("--db", opts->db, "database")->capture_default_str();
    cmd->callback([opts, open_db, disable] {
      auto db = open_db(false);
      set_user_disabled(*db, opts->name, disable, cli_actor());
      std::cout << (disable ? "disabled '" : "enabled '") << opts->name << "'\n";
    });
  }

  auto* reset = users->add_subcommand("reset-password", "Set a new password (read from stdin)");
  reset->add_option("NAME", opts->name, "user name")->required();
  reset->add_flag("--password-stdin", opts->password_stdin, "read the password from stdin (required)")->required();
  reset->add_option("--db", opts->db, "database")->capture_default_str();
  reset->callback([opts, open_db] {
    Secret password = read_password_stdin();
    auto db = open_db(false);
    reset_password(*db, opts->name, password.reveal(), cli_actor());
    std::cout << "password of '" << opts->name << "' changed\n";
  });

  auto* key = users->add_subcommand("key", "Camera API keys: add (shown once), list, revoke");
  key->require_subcommand(1);
  auto* kadd = key->add_subcommand(
      "add",
      "Create a camera API key. The key is printed once and only its hash is kept: store it in the camera.\n"
      "A camera sends it as X-API-Key and may only POST /api/v1/recognize and /api/v1/crowd.\n"
      "Example:\n  facecrowd users key add gate-camera-1");
  kadd->add_option("NAME", opts->name, "what the key is for (e.g. the camera's place)")->required();
  kadd->add_option("--db", opts->db, "database")->capture_default_str();
  kadd->add_flag("--json", opts->json, "print {id, name, key}");
  kadd->callback([opts, open_db] {
    auto db = open_db(true);
    auto k = add_api_key(*db, opts->name, cli_actor());
    // The one place a key is shown: its creation's stdout (only its sha256 is stored).
    if (opts->json) {
      std::string line = nlohmann::json{{"id", k.id}, {"name", k.name}, {"key", k.key.reveal()}}.dump() + "\n";
      std::cout << line << std::flush;
      wipe_string(line);
    } else {
      std::cout << "API key '" << k.name << "' (" << k.id << "), shown once:\n" << k.key.reveal() << "\n";
    }
  });
  auto* klist = key->add_subcommand("list", "List API keys (never the key)");
  klist->add_option("--db", opts->db, "database")->capture_default_str();
  klist->add_flag("--json", opts->json, "print a JSON array");
  klist->callback([opts, open_db] {
    auto db = open_db(false);
    auto tx = db->read();
    auto rows = list_api_keys(tx);
    if (opts->json) {
      std::cout << rows.dump(2) << "\n";
      return;
    }
    for (const auto& r : rows)
      std::cout << cell(r["id"]) << "  " << std::left << std::setw(24) << cell(r["name"])
                << (r["revoked"].get<bool>() ? "revoked" : "active") << "\n";
  });
  auto* krevoke = key->add_subcommand("revoke", "Revoke an API key by id: the camera is refused at once");
  krevoke->add_option("ID", opts->key_id, "the key's id (users key list)")->required();
  krevoke->add_option("--db", opts->db, "database")->capture_default_str();
  krevoke->callback([opts, open_db] {
    auto db = open_db(false);
    revoke_api_key(*db, opts->key_id, cli_actor());
    std::cout << "revoked " << opts->key_id << "\n";
  });
});

}  // namespace
}  // namespace facecrowd
