// index.json's authentication tag (backup/offsite/index_auth.h), attacked the way someone who can write the
// bucket but holds no key would: an index that drops the newest archive re-signed with a key of their own, a
// stripped tag (also with the index claiming to be write-only or plaintext), an older correctly signed index
// put back. Each is refused naming index.json with nothing changed on the restoring machine, and the
// pushing machine does not sign it over. Key rotation, an index an older facecrowd wrote (refused with the
// remedy; the override and the next push), and the warning of plaintext targets and of write-only targets
// whose pair predates index signing (offsite_write_only_index_test.cpp: the signed write-only index).
#include <gtest/gtest.h>

#include <functional>

#include "backup/offsite/index_auth.h"
#include "index_auth_site.h"

namespace facecrowd {
namespace {

using namespace index_auth_test;

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

// A write-only pair made before index signing (format 1) has no signing key: its target's index stays
// unsigned, and restores say so, as for a plaintext target (offsite_write_only_index_test.cpp: a new pair).
TEST(OffsiteIndexAuth, PlaintextTargetsAndWriteOnlyTargetsOfAPairMadeBeforeIndexSigningRestoreAsBeforeWithAWarningThatTheirIndexIsNotAuthenticated) {
  for (const std::string encryption : {"none", "public-key"}) {
    KeyedSite s(encryption, /*pair_before_index_signing=*/true);
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

// A restore given the wrong key listed two key ids for each key file ("not among the keys given (640a…,
// 69fc…)" for one --key-file), because a file given to a restore is tried both as a key file and as a
// write-only private key. Each file is named once, with the id of the kind of key the target wants, beside
// the id it wants: the index's refusal and an object's alike.
TEST(OffsiteKeys, AWrongKeyIsRefusedNamingEachKeyFileGivenOnceWithItsIdAndTheIdTheTargetWants) {
  KeyedSite s;
  const fs::path wrong1 = s.tmp.path() / "wrong1.key", wrong2 = s.tmp.path() / "wrong2.key";
  generate_key_file(wrong1);
  generate_key_file(wrong2);
  auto box_id_of = [](const fs::path& file) {
    KeyRing ring;
    ring.add_box_secret_key_file(file);
    return ring.key_ids().front();
  };
  const std::string wanted = key_id_of_file(s.key);
  auto r = run_facecrowd("--data " + (s.machine / "data").string() + " --backup-dir " + (s.machine / "backup").string() +
                         " restore latest --target " + s.remote.string() + " --key-file " + wrong1.string() + " --key-file " + wrong2.string());
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.out << r.err;
  EXPECT_NE(r.err.find("is authenticated with key " + wanted + ", which is not among the keys given (key file '" + wrong1.string() +
                       "' is key " + key_id_of_file(wrong1) + "; key file '" + wrong2.string() + "' is key " + key_id_of_file(wrong2) + ")"),
            std::string::npos)
      << r.err;
  for (const auto& file : {wrong1, wrong2}) EXPECT_EQ(r.err.find(box_id_of(file)), std::string::npos) << r.err;
  s.expect_machine_untouched();

  // An object sealed with the target's key, opened with a ring built as a restore builds it.
  KeyRing target;
  target.add_key_file(s.key);
  write_text(s.tmp.path() / "plain", "archive bytes");
  target.encrypt_file(s.tmp.path() / "plain", s.tmp.path() / "sealed");
  KeyRing given;
  given.add_key_file(wrong1);
  given.add_box_secret_key_file(wrong1);
  try {
    given.decrypt_file(s.tmp.path() / "sealed", s.tmp.path() / "out", "s3://b/p/archives/x");
    ADD_FAILURE() << "decrypted with the wrong key";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("object 's3://b/p/archives/x' is encrypted with key " + wanted + ", which is not among the keys given (key file '" +
                        wrong1.string() + "' is key " + key_id_of_file(wrong1) + "): give the key file of key " + wanted),
              std::string::npos)
        << what;
    EXPECT_EQ(what.find(box_id_of(wrong1)), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(s.tmp.path() / "out"));
}

}  // namespace
}  // namespace facecrowd
