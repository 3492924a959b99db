// Shared by the index authentication tests (offsite_index_auth_test.cpp: keyed targets;
// offsite_write_only_index_test.cpp: write-only targets): a deployment that pushed two archives to a directory
// target, an empty machine to restore on, and an attacker's hand on index.json.
#pragma once

#include <functional>
#include <string>

#include "backup/offsite/offsite_push.h"
#include "backup/offsite/target_config.h"
#include "backup/targets/directory_target.h"
#include "core/files.h"
#include "core/sha256.h"
#include "offsite_push_site.h"
#include "restore_test_support.h"

namespace facecrowd::index_auth_test {

using namespace restore_test;

inline std::string key_id_of_file(const fs::path& key) {
  KeyRing ring;
  ring.add_key_file(key);
  return ring.encrypting_key_id();
}

// A write-only pair as `target keygen --write-only` made it before index signing (format 1): each file its
// key line alone, the .pub readable by all.
inline void make_key_pair_before_index_signing(const fs::path& file) {
  generate_key_pair(file);
  const fs::path pub = file.string() + ".pub";
  for (const fs::path& f : {file, pub}) {
    const std::string text = read_text(f);
    write_text(f, text.substr(0, text.find('\n') + 1));
  }
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  fs::permissions(pub, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

// A deployment that pushed two archives (and a slice) to a directory target encrypted with a key file (or, by
// `encryption`, a write-only key pair, or none), and an empty machine to restore on.
struct KeyedSite {
  TempDir tmp;
  fs::path data = tmp.path() / "data", backups = tmp.path() / "backup", remote = tmp.path() / "remote",
           key = tmp.path() / "k", machine = tmp.path() / "machine";
  TargetConfig config;
  std::string older, newer;  // archive names
  int added = 0;
  // `pair_before_index_signing`: with "public-key", a format 1 pair (make_key_pair_before_index_signing).
  explicit KeyedSite(const std::string& encryption = "key", bool pair_before_index_signing = false) {
    fill(data, 10);
    push_test::back_up_write_one_more_and_ship(data, backups);
    config.target = remote.string();
    config.encryption = encryption;
    if (encryption == "key") {
      generate_key_file(key);
      config.key_files = {key};
    } else if (encryption == "public-key") {
      if (pair_before_index_signing) make_key_pair_before_index_signing(key);
      else generate_key_pair(key);
      config.public_key_file = key.string() + ".pub";
    }
    push();
    older = index()["archives"][0]["name"];
    newer = add_archive_and_push();
  }
  // One more user, one more archive, pushed; returns the archive's name.
  std::string add_archive_and_push() {
    {
      auto db = Database::open(DataDir::open(data), "face-recognition");
      auto w = db->write();
      const std::string id = "added" + std::to_string(++added);
      w.insert("users", Document::from_json({{"_id", id}, {"username", id}}));
      w.commit();
    }
    const std::string name = backup(data, backups).archive.filename().string();
    push();
    return name;
  }
  PushResult push() {
    DirectoryTarget t(remote);
    PushOptions o;
    o.prune = false;  // the archives are all of today: remote retention would keep only the newest
    return last_push = push_to_target(backups, t, config, o);
  }
  PushResult last_push;
  nlohmann::json index() const { return nlohmann::json::parse(read_text(remote / "index.json")); }
  // Rewrites index.json as an attacker would: the directory target's sha256 sidecar made to match.
  void write_index(const nlohmann::json& j) const {
    const std::string text = j.dump(1);
    write_text(remote / "index.json", text);
    write_text(remote / "index.json.sha256", sha256_hex(text));
  }
  void edit_index(const std::function<void(nlohmann::json&)>& edit) const {
    auto j = index();
    edit(j);
    write_index(j);
  }
  CommandResult restore(const std::string& extra = "") const {
    return run_facecrowd("--data " + (machine / "data").string() + " --backup-dir " + (machine / "backup").string() +
                         " restore latest --target " + remote.string() + (config.encryption == "none" ? "" : " --key-file " + key.string()) +
                         " " + extra);
  }
  // Nothing of a refused restore is left on the restoring machine.
  void expect_machine_untouched() const {
    EXPECT_FALSE(fs::exists(machine / "backup")) << "a refused restore left its backup directory";
    EXPECT_FALSE(fs::exists(machine / "data" / "face-recognition")) << "a refused restore left a database";
  }
};

// The next push (the pushing machine's, with its memory of what it signed) refuses the index, saying `why`,
// and leaves it as it is.
inline void expect_push_refused(KeyedSite& s, const std::string& why) {
  const std::string before = read_text(s.remote / "index.json");
  try {
    s.push();
    ADD_FAILURE() << "a push must not sign the index over: " << why;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find("index.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(s.remote / "index.json"), before);
}

}  // namespace facecrowd::index_auth_test
