// Secrets in memory: passwords, session tokens, API keys, S3 credentials, encryption keys (issue 15.3).
//
// A `Secret` holds the bytes, wipes them with sodium_memzero when destroyed, moved from or cleared, and
// has no way to be printed except redacted: operator<< and to_redacted() give "[secret: redacted]", and
// an nlohmann::json conversion gives the same string, so a Secret that slips into a log line, an error
// message, an audit entry or `--json` output shows nothing. reveal() is the one way to the bytes: call it
// only where the bytes are consumed (a hash check, a signature, a TLS or S3 client) and keep what it
// returns in no other object.
//
// The rules every front end follows (server, S3 target, backup encryption):
//   - argv: a secret is never a flag value (argv is world-readable in /proc/PID/cmdline and shell
//     history). Take it from a file that is 0600 (secret_from_file refuses a file group/others can read)
//     or from an environment variable (secret_from_env, which also removes it from the environment so
//     child processes do not inherit it); a flag names the file or the variable.
//   - logs, error messages, audit details, --json: hold secrets as Secret and print only the Secret;
//     never build a message from reveal(). Errors name the secret's source ("the key in
//     /etc/facecrowd/s3.key"), never its value.
//   - memory: wipe every temporary copy (wipe_string) as soon as it has been used.
//   - core dumps: the first non-empty Secret turns core dumps off for the process
//     (keep_secrets_out_of_core_dumps(), core/process_hardening.h); serve calls disable_core_dumps() at start.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>

namespace facecrowd {

// Overwrites the string's whole buffer (its capacity, not just its size) with zeros and clears it.
void wipe_string(std::string& s);

class Secret {
 public:
  Secret() = default;
  // Takes `value` (the caller's string is moved from and wiped).
  explicit Secret(std::string&& value);
  ~Secret();
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;  // no silent copies of a key
  Secret& operator=(const Secret&) = delete;

  // An explicit copy (wiped in its turn when destroyed), for a holder that must be copyable.
  Secret copy() const { return Secret(std::string(value_)); }
  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }
  // The bytes, for the call that consumes them (a hash check, a signature, curl). A std::string so it can go
  // to an API taking `const std::string&` or a C string (.c_str()) without a copy that nobody wipes.
  const std::string& reveal() const { return value_; }
  void clear() { wipe_string(value_); }

  static constexpr const char* kRedacted = "[secret: redacted]";
  std::string to_redacted() const { return kRedacted; }
  friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << kRedacted; }
  friend void to_json(nlohmann::json& j, const Secret&) { j = kRedacted; }

 private:
  std::string value_;
};

// The environment variable `name` as a Secret, removed from the environment (unsetenv) so child
// processes do not inherit it. Error(kUsage) naming the variable (never the value) when unset or empty.
Secret secret_from_env(const char* name);
// The contents of `file` (one trailing newline dropped) as a Secret. Error(kIo) when it cannot be read;
// Error(kBadInput) naming the file and the chmod that fixes it when group or others can read it.
Secret secret_from_file(const std::filesystem::path& file);

}  // namespace facecrowd
