#include "backup/offsite/target_config.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "backup/offsite/remote_index.h"
#include "core/error.h"
#include "core/files.h"
#include "core/secret.h"

namespace facecrowd {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::vector<fs::path> env_key_files() {
  std::vector<fs::path> out;
  std::string list = env("FACECROWD_BACKUP_KEY_FILE");
  size_t start = 0;
  while (start <= list.size() && !list.empty()) {
    auto end = list.find(':', start);
    std::string item = list.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(item);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::array<unsigned char, 16> salt_of(RemoteIndex& index, bool create) {
  std::array<unsigned char, 16> salt{};
  if (index.passphrase_salt.empty()) {
    if (!create) throw Error(ExitCode::kBadInput, "the target's index has no passphrase salt");
    randombytes_buf(salt.data(), salt.size());
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, salt.data(), salt.size());
    index.passphrase_salt = hex;
    return salt;
  }
  size_t used = 0;
  if (sodium_hex2bin(salt.data(), salt.size(), index.passphrase_salt.data(), index.passphrase_salt.size(), nullptr, &used,
                     nullptr) != 0 || used != salt.size())
    throw Error(ExitCode::kBadInput, "the target's index has a malformed passphrase salt");
  return salt;
}

}  // namespace

fs::path TargetConfig::file_of(const fs::path& data_root) {
  std::string override_file = env("FACECROWD_BACKUP_TARGET_CONFIG");
  return override_file.empty() ? data_root / "backup-target.json" : fs::path(override_file);
}

std::optional<TargetConfig> TargetConfig::load(const fs::path& data_root) {
  fs::path file = file_of(data_root);
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    std::string target = env("FACECROWD_BACKUP_TARGET");
    if (target.empty()) return std::nullopt;
    TargetConfig c;
    c.target = target;
    return c;
  }
  try {
    auto j = nlohmann::json::parse(read_file(file));
    TargetConfig c;
    c.file = file;
    c.target = j.at("target").get<std::string>();
    if (c.target.empty())
      throw Error(ExitCode::kBadInput, "backup target configuration '" + file.string() + "': \"target\" is empty; run `facecrowd target set`");
    c.encryption = j.value("encryption", std::string("none"));
    if (c.encryption != "none" && c.encryption != "key" && c.encryption != "passphrase" && c.encryption != "public-key")
      throw Error(ExitCode::kBadInput, "backup target configuration '" + file.string() + "': encryption is '" + c.encryption +
                                           "'; use none, key, passphrase or public-key");
    for (const auto& k : j.value("key_files", nlohmann::json::array())) c.key_files.push_back(k.get<std::string>());
    c.public_key_file = j.value("public_key_file", std::string());
    // Whole numbers in range, read as they are written: 1.9 or 4294967297 must not quietly become 1 (a
    // retention that deletes what the operator meant to keep), nor 2000000000 months a push that never ends.
    auto flag_of = [](std::string name) {
      std::replace(name.begin(), name.end(), '_', '-');
      return name;
    };
    auto whole = [&](const char* name, int fallback, int64_t low, int64_t high) {
      if (!j.contains(name)) return fallback;
      const auto& v = j.at(name);
      if (!v.is_number_integer() || v.get<int64_t>() < low || v.get<int64_t>() > high)
        throw Error(ExitCode::kBadInput, "backup target configuration '" + file.string() + "': " + name + " is " + v.dump() +
                                             "; it must be a whole number from " + std::to_string(low) + " to " + std::to_string(high) +
                                             ": correct it there, or run `facecrowd target set TARGET --" + flag_of(name) + " N`");
      return int(v.get<int64_t>());
    };
    c.keep_daily = whole("keep_daily", c.keep_daily, 1, TargetConfig::kMaxKeepDaily);  // absent: the default
    c.keep_monthly = whole("keep_monthly", c.keep_monthly, 0, TargetConfig::kMaxKeepMonthly);
    c.pitr_days = whole("pitr_days", c.pitr_days, 1, TargetConfig::kMaxPitrDays);
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::kBadInput, "backup target configuration '" + file.string() + "' is malformed: " + e.what());
  }
}

nlohmann::json TargetConfig::to_json() const {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& k : key_files) keys.push_back(k.string());
  return {{"target", target}, {"encryption", encryption}, {"key_files", keys}, {"public_key_file", public_key_file.string()},
          {"keep_daily", keep_daily}, {"keep_monthly", keep_monthly}, {"pitr_days", pitr_days}};
}

void TargetConfig::save(const fs::path& file) const { write_file_durably(file, to_json().dump(2) + "\n"); }

std::shared_ptr<KeyRing> keys_for_upload(const TargetConfig& config, RemoteIndex& index) {
  const bool index_encrypted = !index.encryption.empty();
  if (!config.encrypted()) {
    if (index_encrypted)
      throw Error(ExitCode::kUsage, "backup target '" + config.target + "' is marked encrypted (" + index.encryption +
                                        ") but no encryption is configured here; refusing to upload plaintext. Configure it first: "
                                        "`facecrowd target set " + config.target + " --encryption " + index.encryption +
                                        (index.encryption == "public-key" ? " --public-key FILE.pub`" : " --key-file K`") +
                                        " (\"encryption\" and its key in backup-target.json)");
    return nullptr;
  }
  // Checked before any key is read: the point of write-only mode is that a compromised server holds nothing
  // that decrypts its backups, and a private key named here is read at every push and sits beside the data.
  if (config.encryption == "public-key" && !config.key_files.empty())
    throw Error(ExitCode::kBadInput,
                "backup target configuration '" + (config.file.empty() ? std::string("(not from a file)") : config.file.string()) +
                    "': \"key_files\" names " + config.key_files.front().string() +
                    " for a write-only (\"encryption\": \"public-key\") target; refusing to upload. Write-only mode "
                    "needs only the .pub in \"public_key_file\": remove \"key_files\" (or run `facecrowd target set "
                    "TARGET --encryption public-key --public-key FILE.pub`) and keep the private key offline, for "
                    "`facecrowd restore`/`verify --read-data` with --key-file");
  auto ring = std::make_shared<KeyRing>();
  auto refuse = [&](const std::string& why) -> Error {
    return Error(ExitCode::kUsage, "backup target '" + config.target + "' is encrypted (" + config.encryption + ") but " + why +
                                       "; refusing to upload plaintext");
  };
  if (config.encryption == "key") {
    auto files = config.key_files.empty() ? env_key_files() : config.key_files;
    if (files.empty()) throw refuse("no key file is configured (key_files, or $FACECROWD_BACKUP_KEY_FILE)");
    try {
      ring->add_key_file(files.front());
      // The older keys only decrypt (the first added encrypts): with them the push checks an index signed
      // before a key rotation (index_auth.h).
      for (size_t i = 1; i < files.size(); ++i) ring->add_key_file(files[i]);
    } catch (const Error& e) {
      throw refuse(std::string("its key cannot be used: ") + e.what());
    }
  } else if (config.encryption == "passphrase") {
    const Secret pass(env("FACECROWD_BACKUP_PASSPHRASE"));
    if (pass.empty()) throw refuse("$FACECROWD_BACKUP_PASSPHRASE is not set");
    ring->add_passphrase(pass.reveal(), salt_of(index, true));
  } else {
    fs::path pub = config.public_key_file;
    if (pub.empty()) throw refuse("no public_key_file is configured");
    try {
      ring->add_public_key_file(pub);
    } catch (const Error& e) {
      throw refuse(std::string("its public key cannot be used: ") + e.what());
    }
  }
  index.encryption = config.encryption;
  return ring;
}

std::shared_ptr<KeyRing> keys_for_download(const std::optional<TargetConfig>& config, const RemoteIndex& index,
                                           const std::vector<fs::path>& extra_key_files) {
  auto ring = std::make_shared<KeyRing>();
  ring->set_target_encryption(index.encryption);
  std::vector<fs::path> files = extra_key_files;
  if (config)
    for (const auto& f : config->key_files) files.push_back(f);
  for (const auto& f : env_key_files()) files.push_back(f);
  for (const auto& f : files) ring->add_restore_key_file(f);
  const Secret pass(env("FACECROWD_BACKUP_PASSPHRASE"));
  if (!pass.empty() && !index.passphrase_salt.empty()) {
    RemoteIndex copy;
    copy.passphrase_salt = index.passphrase_salt;
    ring->add_passphrase(pass.reveal(), salt_of(copy, false));
  }
  return ring;
}

namespace {

std::shared_ptr<const KeyRing> own_index_signing_key(const std::optional<TargetConfig>& config) {
  if (!config || config->encryption != "public-key" || config->public_key_file.empty()) return nullptr;
  auto ring = std::make_shared<KeyRing>();
  try {
    ring->add_public_key_file(config->public_key_file);
  } catch (const Error&) {
    return nullptr;  // a check that cannot be made is reported as unchecked, not as a failure of the target
  }
  return ring->holds_index_verify_key() ? ring : nullptr;
}

}  // namespace

IndexTrust reader_trust(const std::optional<TargetConfig>& config, const fs::path& backup_dir, const std::string& target_url) {
  IndexTrust trust = read_trust(config && config->keyed(), backup_dir, target_url);
  trust.own_signing_key = own_index_signing_key(config);
  return trust;
}

}  // namespace facecrowd
