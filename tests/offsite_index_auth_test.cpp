// index.json's authentication tag (backup/offsite/index_auth.h), attacked the way someone who can write the
// bucket but holds no key would: an index that drops the newest archive re-signed with a key of their own, a
// stripped tag (also with the index claiming to be write-only or plaintext), an older correctly signed index
// put back. Each is refused naming index.json with nothing changed on the restoring machine, and the
// pushing machine does not sign it over. Key rotation, an index an older facecrowd wrote (refused with the
// remedy; the override and the next push), and the plaintext and write-only targets' warning too.
#include <gtest/gtest.h>

#include <functional>

#include "backup/offsite/index_auth.h"
#include "backup/offsite/offsite_push.h"
#include "backup/offsite/target_config.h"
#include "backup/targets/directory_target.h"
#include "core/files.h"
#include "core/sha256.h"
#include "offsite_push_site.h"
#include "restore_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

std::string key_id_of_file(const fs::path& key) {
  KeyRing ring;
  ring.add_key_file(key);
  return ring.encrypting_key_id();
}

// A deployment that pushed two archives (and a slice) to a directory target encrypted with a key file, and
// an empty machine to restore on.
struct KeyedSite {
  TempDir tmp;
  fs::path data = tmp.path() / "data", backups = tmp.path() / "backup", remote = tmp.path() / "remote",
           key = tmp.path() / "k", machine = tmp.path() / "machine";
  TargetConfig config;
  std::string older, newer;  // archive names
  int added = 0;
  explicit KeyedSite(const std::string& encryption = "key") {
    fill(data, 10);
    push_test::back_up_write_one_more_and_ship(data, backups);
    config.target = remote.string();
    config.encryption = encryption;
    if (encryption == "key") {
      generate_key_file(key);
      config.key_files = {key};
    } else if (encryption == "public-key") {
      generate_key_pair(key);
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
    return push_to_target(backups, t, config, o);
  }
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
void expect_push_refused(KeyedSite& s, const std::string& why) {
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

// The newest archive dropped from the index, re-signed under the real key id with a key the attacker made.
void drop_newest_archive_and_resign_without_the_key(KeyedSite& s) {
  const fs::path forged_key = s.tmp.path() / "attacker.key";
  generate_key_file(forged_key);
  KeyRing attacker;
  attacker.add_key_file(forged_key);
  s.edit_index([&](nlohmann::json& j) {
    j["archives"].erase(1);
    j["auth"]["tag"] = attacker.index_tag(index_canonical_digest(j))->tag;
  });
}

TEST(OffsiteIndexAuth, AnIndexThatDropsTheNewestArchiveReSignedWithoutTheKeyIsRefusedByRestoreVerifyAndThePush) {
  KeyedSite s;
  ASSERT_TRUE(s.index().contains("auth")) << s.index().dump(1);
  EXPECT_EQ(s.index()["auth"]["key_id"], key_id_of_file(s.key));
  drop_newest_archive_and_resign_without_the_key(s);
  const std::string tampered = read_text(s.remote / "index.json");

  auto r = s.restore();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.out << r.err;
  EXPECT_NE(r.err.find(s.remote.string() + "/index.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fails authentication"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was downloaded or changed"), std::string::npos) << r.err;
  s.expect_machine_untouched();

  auto v = run_facecrowd("--backup-dir " + s.backups.string() + " verify --target " + s.remote.string() + " --key-file " +
                         s.key.string() + " --json");
  EXPECT_EQ(v.exit_code, int(ExitCode::kBadInput)) << v.out << v.err;
  auto report = nlohmann::json::parse(v.out);
  EXPECT_EQ(report["index_authentication"]["status"], "refused") << v.out;
  EXPECT_NE(v.out.find("fails authentication"), std::string::npos) << v.out;

  // The next ship does not sign the edited index over: refused, the index left as the attacker wrote it.
  expect_push_refused(s, "fails authentication");
  EXPECT_EQ(read_text(s.remote / "index.json"), tampered);
}

TEST(OffsiteIndexAuth, AStrippedTagIsRefusedOnAKeyedTargetAlsoWhenTheIndexClaimsToBeWriteOnlyOrPlaintext) {
  KeyedSite s;
  const auto signed_index = s.index();
  auto stripped = signed_index;
  stripped.erase("auth");
  stripped["archives"].erase(1);
  s.write_index(stripped);
  auto r = s.restore();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.out << r.err;
  EXPECT_NE(r.err.find("index.json' carries no authentication tag"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-unauthenticated-index"), std::string::npos) << r.err;
  s.expect_machine_untouched();

  // Claiming write-only: the index is "not authenticated", but the objects it names are encrypted with a
  // symmetric key, which only a keyed target (whose index carries a tag) writes.
  auto claims_write_only = stripped;
  claims_write_only["encryption"] = "public-key";
  s.write_index(claims_write_only);
  r = s.restore();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.out << r.err;
  EXPECT_NE(r.err.find("encrypted with a symmetric key, but index '" + s.remote.string() + "/index.json' is not authenticated"),
            std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(s.machine / "data" / "face-recognition" / "CURRENT"));

  // Claiming plaintext, its objects replaced by plaintext ones (the attacker cannot encrypt): refused as
  // plaintext where a key was given.
  auto claims_plaintext = stripped;
  claims_plaintext["encryption"] = "";
  const std::string archive_key = claims_plaintext["archives"][0]["object"]["key"];
  fs::copy_file(s.backups / s.older, s.remote / archive_key, fs::copy_options::overwrite_existing);
  const std::string manifest_key = claims_plaintext["archives"][0]["manifest_object"]["key"];
  fs::copy_file(s.backups / (s.older + ".manifest.json"), s.remote / manifest_key, fs::copy_options::overwrite_existing);
  for (const std::string& key : {archive_key, manifest_key}) {
    write_text(s.remote / (key + ".sha256"), sha256_hex(read_text(s.remote / key)));
    for (const char* field : {"object", "manifest_object"})
      if (claims_plaintext["archives"][0][field]["key"] == key)
        claims_plaintext["archives"][0][field] = {{"key", key}, {"size", fs::file_size(s.remote / key)}, {"sha256", sha256_hex(read_text(s.remote / key))}};
  }
  fs::remove_all(s.machine);
  s.write_index(claims_plaintext);
  r = s.restore();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.out << r.err;
  EXPECT_NE(r.err.find("is plaintext, but index '" + s.remote.string() + "/index.json' is not authenticated"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(s.machine / "data" / "face-recognition" / "CURRENT"));

  // The machine that signed the index before refuses to push over a stripped one.
  s.write_index(stripped);
  expect_push_refused(s, "this machine wrote it signed");
}

TEST(OffsiteIndexAuth, AnIndexSignedUnderTheOldKeyStillVerifiesAfterARotationAndThePushThenSignsWithTheNewKey) {
  KeyedSite s;
  const fs::path old_key = s.key, new_key = s.tmp.path() / "new.key";
  generate_key_file(new_key);
  const std::string old_id = key_id_of_file(old_key), new_id = key_id_of_file(new_key);
  ASSERT_EQ(s.index()["auth"]["key_id"], old_id);

  // Rotated: the new key first, the old one still there. The index signed under the old key verifies.
  s.config.key_files = {new_key, old_key};
  auto v = run_facecrowd("verify --target " + s.remote.string() + " --key-file " + new_key.string() + " --key-file " +
                         old_key.string() + " --json");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(nlohmann::json::parse(v.out)["index_authentication"]["status"], "authenticated") << v.out;
  EXPECT_EQ(nlohmann::json::parse(v.out)["index_authentication"]["key_id"], old_id) << v.out;
  // ... and with only the new key the refusal names the key it needs.
  auto without_old = run_facecrowd("--data " + (s.machine / "data").string() + " --backup-dir " + (s.machine / "backup").string() +
                                   " restore latest --target " + s.remote.string() + " --key-file " + new_key.string());
  EXPECT_EQ(without_old.exit_code, int(ExitCode::kBadInput)) << without_old.out << without_old.err;
  EXPECT_NE(without_old.err.find("authenticated with key " + old_id + ", which is not among the keys given"), std::string::npos)
      << without_old.err;
  s.expect_machine_untouched();

  // The next push checks it with the old key and signs under the new one; a restore with both keys works.
  s.add_archive_and_push();
  EXPECT_EQ(s.index()["auth"]["key_id"], new_id) << s.index()["auth"].dump();
  auto r = run_facecrowd("--data " + (s.machine / "data").string() + " --backup-dir " + (s.machine / "backup").string() +
                         " restore latest --target " + s.remote.string() + " --key-file " + new_key.string() + " --key-file " +
                         old_key.string() + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["offsite"]["index_authentication"]["status"], "authenticated") << r.out;
}

TEST(OffsiteIndexAuth, AnIndexAnOlderFacecrowdWroteIsRefusedWithTheRemedyRestoresWithTheOverrideAndTheNextPushSignsIt) {
  KeyedSite s;
  // What a facecrowd before index tags wrote, pushed from a machine that never signed this target.
  s.edit_index([](nlohmann::json& j) {
    j.erase("auth");
    j.erase("sequence");
  });
  fs::remove(s.backups / "offsite-index-signed.json");
  auto r = s.restore();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.out << r.err;
  EXPECT_NE(r.err.find("a facecrowd older than this one wrote it"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("next `facecrowd backup` or `facecrowd oplog ship`"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-unauthenticated-index"), std::string::npos) << r.err;
  s.expect_machine_untouched();

  r = s.restore("--allow-unauthenticated-index --json");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["offsite"]["archive"], s.newer) << r.out;
  EXPECT_EQ(j["offsite"]["index_authentication"]["status"], "unauthenticated-allowed") << r.out;

  // The next push (this version) accepts it, says so, and signs it.
  auto pushed = s.push();
  bool said = false;
  for (const auto& w : pushed.warnings) said = said || w.find("this push signs it") != std::string::npos;
  EXPECT_TRUE(said) << pushed.to_json().dump();
  EXPECT_EQ(s.index()["auth"]["key_id"], key_id_of_file(s.key)) << s.index().dump(1);
}

TEST(OffsiteIndexAuth, AnOlderCorrectlySignedIndexPutBackIsRefusedByTheMachineThatPushedIt) {
  KeyedSite s;
  const std::string before_third = read_text(s.remote / "index.json");
  s.add_archive_and_push();
  // The attacker puts back the index of before the newest archive: correctly signed, and older.
  write_text(s.remote / "index.json", before_third);
  write_text(s.remote / "index.json.sha256", sha256_hex(before_third));
  expect_push_refused(s, "is an older copy");
  auto v = run_facecrowd("--backup-dir " + s.backups.string() + " verify --target " + s.remote.string() + " --key-file " + s.key.string());
  EXPECT_EQ(v.exit_code, int(ExitCode::kBadInput)) << v.out << v.err;
  EXPECT_NE(v.out.find("is an older copy"), std::string::npos) << v.out;
}

TEST(OffsiteIndexAuth, PlaintextAndWriteOnlyTargetsRestoreAsBeforeWithAWarningThatTheirIndexIsNotAuthenticated) {
  for (const std::string encryption : {"none", "public-key"}) {
    KeyedSite s(encryption);
    EXPECT_FALSE(s.index().contains("auth")) << encryption;
    auto r = s.restore();
    EXPECT_EQ(r.exit_code, 0) << encryption << r.out << r.err;
    EXPECT_NE(r.out.find("warning: index '" + s.remote.string() + "/index.json' is not authenticated"), std::string::npos)
        << encryption << r.out;
    fs::remove_all(s.machine);
    r = s.restore("--json");
    EXPECT_EQ(r.exit_code, 0) << encryption << r.out << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["offsite"]["index_authentication"]["status"], "not-authenticated") << r.out;
    EXPECT_EQ(nlohmann::json::parse(r.out)["offsite"]["archive"], s.newer) << r.out;
  }
}

}  // namespace
}  // namespace facecrowd
