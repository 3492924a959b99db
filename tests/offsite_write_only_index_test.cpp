// index.json of a write-only (public-key) target, signed by the server's index signing key and checked with
// the verify key in the offline private key file (backup/offsite/index_auth.h, backup/crypto/index_signing.h),
// attacked the way someone who can write the bucket but holds no key would: archives dropped with the
// signature left as it was, the signature altered, removed, copied from another index, or made by a pair of
// their own; an older signed index put back. Each is refused (exit 3) naming index.json, with nothing
// restored. Also: the round trip, the server's file given to a restore, damaged key files, and replacing the
// pair. (A pair made before index signing: offsite_index_auth_test.cpp's warning test.)
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "backup/offsite/index_auth.h"
#include "index_auth_site.h"

namespace facecrowd {
namespace {

using namespace index_auth_test;

fs::path server_file(const fs::path& pair) { return pair.string() + ".pub"; }

std::string pair_id(const fs::path& pair) {
  KeyRing ring;
  ring.add_public_key_file(server_file(pair));
  return ring.encrypting_key_id();
}

// What a server holding `pair`'s signing key would sign `j` with.
std::string signature_by(const fs::path& pair, const nlohmann::json& j) {
  KeyRing ring;
  ring.add_public_key_file(server_file(pair));
  return ring.index_tag(index_canonical_digest(j))->tag;
}

CommandResult run_with_offline_key(const KeyedSite& s, const std::string& command) {
  return run_facecrowd("--backup-dir " + s.backups.string() + " " + command + " --target " + s.remote.string() + " --key-file " +
                       s.key.string());
}

void expect_restore_refused(const KeyedSite& s, const std::string& why, const std::string& attack) {
  auto r = s.restore();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << attack << "\n" << r.out << r.err;
  EXPECT_NE(r.err.find("index '" + s.remote.string() + "/index.json'"), std::string::npos) << attack << "\n" << r.err;
  EXPECT_NE(r.err.find(why), std::string::npos) << attack << "\n" << r.err;
  EXPECT_NE(r.err.find("nothing was downloaded or changed"), std::string::npos) << attack << "\n" << r.err;
  s.expect_machine_untouched();
}

// Fails on the code before index signing: the write-only index was not authenticated, and the restore went
// back to the older archive with exit 0.
TEST(OffsiteWriteOnlyIndex, AnIndexThatDropsTheNewestArchiveIsRefusedByRestoreVerifyListAndThePushWithNothingRestored) {
  KeyedSite s("public-key");
  // Someone with only the bucket's credentials drops the newest archive; the signature stays as it was.
  s.edit_index([](nlohmann::json& j) { j["archives"].erase(1); });
  const std::string tampered = read_text(s.remote / "index.json");
  expect_restore_refused(s, "fails authentication", "newest archive dropped");

  auto v = run_with_offline_key(s, "verify --json");
  EXPECT_EQ(v.exit_code, int(ExitCode::kBadInput)) << v.out << v.err;
  EXPECT_EQ(nlohmann::json::parse(v.out)["index_authentication"]["status"], "refused") << v.out;
  auto l = run_with_offline_key(s, "backups list");
  EXPECT_EQ(l.exit_code, int(ExitCode::kBadInput)) << l.out << l.err;
  EXPECT_NE(l.err.find(s.remote.string() + "/index.json' fails authentication"), std::string::npos) << l.err;

  // The server's next ship checks it with its own key and does not sign the edit over.
  expect_push_refused(s, "fails authentication");
  EXPECT_EQ(read_text(s.remote / "index.json"), tampered);
}

TEST(OffsiteWriteOnlyIndex, ASignatureAlteredRemovedCopiedFromAnotherIndexOrMadeByAnotherPairIsRefusedByTheRestore) {
  KeyedSite s("public-key");
  const auto earlier = s.index();
  s.add_archive_and_push();
  const auto genuine = s.index();
  ASSERT_EQ(genuine["auth"]["alg"], "ed25519-blake2b") << genuine["auth"].dump();
  ASSERT_EQ(genuine["auth"]["key_id"], pair_id(s.key));
  auto dropped = genuine;
  dropped["archives"].erase(dropped["archives"].size() - 1);
  const fs::path attacker = s.tmp.path() / "attacker.key";
  generate_key_pair(attacker);
  const fs::path attacker_key = s.tmp.path() / "attacker-mac.key";
  generate_key_file(attacker_key);
  KeyRing mac_ring;
  mac_ring.add_key_file(attacker_key);

  struct Attack {
    std::string name;
    nlohmann::json index;
    std::string why;
  };
  std::vector<Attack> attacks;
  auto altered = genuine;
  std::string signature = altered["auth"]["signature"];
  signature[7] = signature[7] == '0' ? '1' : '0';
  altered["auth"]["signature"] = signature;
  attacks.push_back({"a digit of the signature changed", altered, "fails authentication"});
  auto removed = dropped;
  removed.erase("auth");
  attacks.push_back({"the signature removed", removed, "carries no authentication tag, but the private key file given holds an index verify key"});
  auto copied = dropped;
  copied["auth"] = earlier["auth"];  // a genuine signature, of the index before
  attacks.push_back({"the signature of another index", copied, "fails authentication"});
  auto forged = dropped;
  forged["auth"]["signature"] = signature_by(attacker, dropped);
  attacks.push_back({"signed by another pair under this pair's id", forged, "fails authentication"});
  auto own = dropped;
  own["auth"] = {{"alg", "ed25519-blake2b"}, {"key_id", pair_id(attacker)}, {"signature", signature_by(attacker, dropped)}};
  attacks.push_back({"signed by another pair under its own id", own, "authenticated with key " + pair_id(attacker) + ", which is not among"});
  auto mac = dropped;
  mac["auth"] = {{"alg", "hmac-sha512-256-blake2b"}, {"key_id", pair_id(s.key)}, {"tag", mac_ring.index_tag(index_canonical_digest(dropped))->tag}};
  attacks.push_back({"a keyed target's tag in place of the signature", mac, "which is a write-only key pair"});
  for (const auto& a : attacks) {
    s.write_index(a.index);
    expect_restore_refused(s, a.why, a.name);
  }

  // Removed: what --allow-unauthenticated-index is for (an operator who trusts that index), as on a keyed target.
  s.write_index(removed);
  auto r = s.restore("--allow-unauthenticated-index --json");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["offsite"]["index_authentication"]["status"], "unauthenticated-allowed") << r.out;
}

TEST(OffsiteWriteOnlyIndex, AnOlderSignedIndexPutBackIsRefusedByTheServerThatPushedIt) {
  KeyedSite s("public-key");
  const std::string before = read_text(s.remote / "index.json");
  s.add_archive_and_push();
  write_text(s.remote / "index.json", before);
  write_text(s.remote / "index.json.sha256", sha256_hex(before));
  expect_push_refused(s, "is an older copy");
}

TEST(OffsiteWriteOnlyIndex, AGenuinePushRestoresWithItsSignatureCheckedAndTheServersFileGivenToARestoreIsRefusedByName) {
  KeyedSite s("public-key");
  for (const fs::path& f : {s.key, server_file(s.key)}) {
    struct stat st {};
    ASSERT_EQ(::stat(f.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f << ": both files hold a secret";
  }
  auto wrong = run_facecrowd("--data " + (s.machine / "data").string() + " --backup-dir " + (s.machine / "backup").string() +
                             " restore latest --target " + s.remote.string() + " --key-file " + server_file(s.key).string());
  EXPECT_EQ(wrong.exit_code, int(ExitCode::kUsage)) << wrong.out << wrong.err;
  EXPECT_NE(wrong.err.find("'" + server_file(s.key).string() + "' is the server's file of a write-only key pair"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("'" + s.key.string() + "'"), std::string::npos) << "names the file that restores: " << wrong.err;
  s.expect_machine_untouched();

  auto r = s.restore("--json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out)["offsite"];
  EXPECT_EQ(j["index_authentication"]["status"], "authenticated") << r.out;
  EXPECT_EQ(j["index_authentication"]["key_id"], pair_id(s.key)) << r.out;
  EXPECT_EQ(j["archive"], s.newer) << r.out;
  EXPECT_EQ(nlohmann::json::parse(run_with_offline_key(s, "verify --json").out)["index_authentication"]["status"], "authenticated");
  auto l = run_with_offline_key(s, "backups list");
  EXPECT_EQ(l.exit_code, 0) << l.out << l.err;
  EXPECT_EQ(l.err.find("warning"), std::string::npos) << l.err;
}

// `verify --target` on the server that pushes, without --key-file, reported the signature "unchecked" though
// the server's own file (its configured public_key_file) holds the signing key, whose verify key checks it. It
// now checks it and names that file; an edited index is refused there; a machine with no key still says
// "unchecked", now with the remedy.
TEST(OffsiteWriteOnlyIndex, VerifyOnTheServerChecksTheSignatureWithItsOwnSigningKeyAndNamesItAndWithoutAKeySaysHowToCheckIt) {
  KeyedSite s("public-key");
  s.config.save(TargetConfig::file_of(s.data));
  const std::string on_server = "--data " + s.data.string() + " --backup-dir " + s.backups.string() + " verify --target " + s.remote.string();
  auto v = run_facecrowd(on_server + " --json");
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  const auto auth = nlohmann::json::parse(v.out)["index_authentication"];
  EXPECT_EQ(auth["status"], "authenticated") << v.out;
  EXPECT_EQ(auth["key_id"], pair_id(s.key)) << v.out;
  EXPECT_NE(auth["checked_with"].get<std::string>().find("'" + server_file(s.key).string() + "'"), std::string::npos) << v.out;
  auto text = run_facecrowd(on_server);
  EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("ok      index authentication: its tag holds under key " + pair_id(s.key) + ", checked with public key file '" +
                          server_file(s.key).string() + "' (this server's index signing key)"),
            std::string::npos)
      << text.out;

  // Elsewhere (no configuration, no key): unchecked, saying how to check it.
  auto elsewhere = run_facecrowd("--data " + (s.machine / "data").string() + " --backup-dir " + (s.machine / "backup").string() +
                                 " verify --json --target " + s.remote.string());
  ASSERT_EQ(elsewhere.exit_code, 0) << elsewhere.out << elsewhere.err;
  const auto unchecked = nlohmann::json::parse(elsewhere.out)["index_authentication"];
  EXPECT_EQ(unchecked["status"], "unchecked") << elsewhere.out;
  EXPECT_NE(unchecked["warning"].get<std::string>().find("--key-file"), std::string::npos) << elsewhere.out;
  EXPECT_NE(unchecked["warning"].get<std::string>().find("on the server that pushes"), std::string::npos) << elsewhere.out;

  // An archive dropped from the index: the server's check refuses it.
  s.edit_index([](nlohmann::json& j) { j["archives"].erase(1); });
  auto edited = run_facecrowd(on_server + " --json");
  EXPECT_EQ(edited.exit_code, int(ExitCode::kBadInput)) << edited.out << edited.err;
  EXPECT_EQ(nlohmann::json::parse(edited.out)["index_authentication"]["status"], "refused") << edited.out;
}

// `backups list --target` lists what a restore would use, authenticated as verify authenticates it: on the
// server it said "unchecked" (and listed an index edited in the bucket, with a warning only), though the
// server's configured public key file holds the signing key. It now checks it with that key, as verify does.
TEST(OffsiteWriteOnlyIndex, BackupsListOnTheServerChecksTheSignatureWithItsOwnSigningKeyAndRefusesAnEditedIndex) {
  KeyedSite s("public-key");
  s.config.save(TargetConfig::file_of(s.data));
  const std::string on_server =
      "--data " + s.data.string() + " --backup-dir " + s.backups.string() + " backups list --json --target " + s.remote.string();
  auto listed = run_facecrowd(on_server);
  ASSERT_EQ(listed.exit_code, 0) << listed.out << listed.err;
  const auto auth = nlohmann::json::parse(listed.out)["index_authentication"];
  EXPECT_EQ(auth["status"], "authenticated") << listed.out;
  EXPECT_NE(auth["checked_with"].get<std::string>().find("'" + server_file(s.key).string() + "'"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.err, "");

  s.edit_index([](nlohmann::json& j) { j["archives"].erase(1); });
  auto edited = run_facecrowd(on_server);
  EXPECT_EQ(edited.exit_code, int(ExitCode::kBadInput)) << edited.out << edited.err;
  EXPECT_NE(edited.err.find("fails authentication"), std::string::npos) << edited.err;
  EXPECT_EQ(edited.out, "");
}

TEST(OffsiteWriteOnlyIndex, ADamagedIndexKeyInEitherFileOfAPairIsRefusedNamingTheFileWithNothingUploadedOrRestored) {
  KeyedSite s("public-key");
  const fs::path pub = server_file(s.key);
  const std::string index_before = read_text(s.remote / "index.json"), server_text = read_text(pub), offline_text = read_text(s.key);
  const std::string seed = server_text.substr(server_text.find(' ') + 1, 64);
  auto second_line = [](const std::string& text) { return text.substr(text.find('\n') + 1); };
  auto first_line = [](const std::string& text) { return text.substr(0, text.find('\n') + 1); };
  struct Damage {
    std::string name, server, offline, why;
  };
  const std::vector<Damage> damages = {
      {"truncated", server_text.substr(0, server_text.size() - 11) + "\n", offline_text.substr(0, offline_text.size() - 11) + "\n",
       "line does not hold a key"},
      {"garbled", first_line(server_text) + "index-signing-key " + std::string(63, 'f') + "x\n",
       first_line(offline_text) + "index-verify-key zz" + std::string(62, '0') + "\n", "line does not hold a key"},
      {"an unknown line", first_line(server_text) + "index-signing-kee " + seed + "\n",
       first_line(offline_text) + "signing " + second_line(offline_text), "neither `index-signing-key <64 hex>`"},
  };
  for (const auto& d : damages) {
    write_text(pub, d.server);
    try {
      s.push();
      ADD_FAILURE() << d.name << ": a push with a damaged server file must not upload";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("'" + pub.string() + "'"), std::string::npos) << d.name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(d.why), std::string::npos) << d.name << ": " << e.what();
      EXPECT_EQ(std::string(e.what()).find(seed.substr(0, 16)), std::string::npos) << "the secret is never quoted: " << e.what();
    }
    EXPECT_EQ(read_text(s.remote / "index.json"), index_before) << d.name;
    write_text(s.key, d.offline);
    auto r = s.restore();
    EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << d.name << r.out << r.err;
    EXPECT_NE(r.err.find("key file '" + s.key.string() + "'"), std::string::npos) << d.name << r.err;
    EXPECT_NE(r.err.find(d.why), std::string::npos) << d.name << r.err;
    s.expect_machine_untouched();
  }
  // The server's file, now holding a secret, readable by others: refused as a key file is.
  write_text(pub, server_text);
  fs::permissions(pub, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  try {
    s.push();
    ADD_FAILURE() << "a server file others can read must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("readable by other users"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(s.remote / "index.json"), index_before);
}

TEST(OffsiteWriteOnlyIndex, ReplacingThePairKeepsOlderObjectsRestorableAndTheNextPushSignsTheIndexUnderTheNewPair) {
  KeyedSite s("public-key");
  const fs::path old_pair = s.key, new_pair = s.tmp.path() / "new.key";
  generate_key_pair(new_pair);
  s.config.public_key_file = server_file(new_pair);
  // Until the next push the index is the old pair's: the new private file alone does not check it.
  auto only_new = run_facecrowd("--data " + (s.machine / "data").string() + " --backup-dir " + (s.machine / "backup").string() +
                                " restore latest --target " + s.remote.string() + " --key-file " + new_pair.string());
  EXPECT_EQ(only_new.exit_code, int(ExitCode::kBadInput)) << only_new.out << only_new.err;
  EXPECT_NE(only_new.err.find("authenticated with key " + pair_id(old_pair) + ", which is not among the keys given"), std::string::npos)
      << only_new.err;
  s.expect_machine_untouched();

  // The server holds only the new signing key: it knows the index as the one it wrote last, and signs it anew.
  const std::string newest = s.add_archive_and_push();
  for (const auto& w : s.last_push.warnings) EXPECT_EQ(w.find("index.json"), std::string::npos) << w;
  EXPECT_EQ(s.index()["auth"]["key_id"], pair_id(new_pair)) << s.index()["auth"].dump();
  auto r = run_facecrowd("--data " + (s.machine / "data").string() + " --backup-dir " + (s.machine / "backup").string() +
                         " restore latest --target " + s.remote.string() + " --key-file " + new_pair.string() + " --key-file " +
                         old_pair.string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["offsite"]["archive"], newest) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["offsite"]["index_authentication"]["status"], "authenticated") << r.out;

  // A server that does not remember writing the old pair's index (its backup directory lost) takes it with a
  // warning, as it takes an unsigned one: a forged signature gains a bucket attacker nothing a stripped one does not.
  KeyedSite fresh("public-key");
  fresh.config.public_key_file = server_file(new_pair);
  fs::remove(fresh.backups / "offsite-index-signed.json");
  bool said = false;
  for (const auto& w : fresh.push().warnings) said = said || w.find("which this server does not hold") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_EQ(fresh.index()["auth"]["key_id"], pair_id(new_pair));
}

}  // namespace
}  // namespace facecrowd
