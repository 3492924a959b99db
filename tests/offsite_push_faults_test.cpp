// The write side of off-site backups under attack: a push killed in the middle of an upload or failing
// part-way, objects the index names that are gone from the bucket when remote retention runs, a target that
// lost its index, and a server quoting a credential back. Against s3rver on loopback (with the fault proxy in
// front) and a directory target.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "backup/catalog.h"
#include "backup/crypto/object_crypto.h"
#include "backup/offsite/offsite_store.h"
#include "backup/offsite/offsite_verify.h"
#include "backup/targets/directory_target.h"
#include "backup/targets/s3_target.h"
#include "core/error.h"
#include "core/secret.h"
#include "offsite_push_site.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

using namespace push_test;

// A push of `s` to the S3 target in a child process, for a test to kill it mid-way (SIGKILL: no handler
// runs, nothing is aborted, as when the machine goes down). Returns the child's pid (-1 when fork fails).
pid_t push_in_child(PushSite& s, const BucketLocation& location, const S3Settings& settings) {
  const pid_t child = ::fork();
  if (child == 0) {
    try {
      S3Target t(location, settings);
      s.push(t);
    } catch (...) {
    }
    ::_exit(0);
  }
  return child;
}

void kill_and_reap(pid_t child) {
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
}

// A push killed (SIGKILL: no handler runs, nothing is aborted) while a multipart upload has stored its first
// part leaves that upload's parts in the bucket; S3 keeps and bills them until the upload is aborted, and no
// index names them. The next push aborts it before it uploads anything, says so, and no part is left.
TEST(OffsitePushInterrupted, AMultipartUploadOfAPushKilledMidwayIsAbortedByTheNextPushAndNoPartIsLeft) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());
  PushSite s(20, 6 << 20);
  S3Settings settings = S3rver::settings_for(proxy.endpoint());
  settings.multipart_threshold = 1 << 20;  // the archive and the slice (about 3 MiB each) go up in parts
  settings.part_size = 1 << 20;
  settings.parallel_parts = 1;  // part 1 is stored before part 2 goes
  settings.stall_timeout_s = 60;
  const auto location = parse_bucket_location("s3://facecrowd-test/site");
  proxy.fault({{"stall", true}, {"count", 1}, {"match", "partNumber=2&"}});
  const pid_t child = push_in_child(s, location, settings);
  ASSERT_GT(child, 0);
  bool stalled = false;
  for (int i = 0; i < 400 && !stalled; ++i) {
    for (const auto& r : proxy.log()) stalled = stalled || r["url"].get<std::string>().find("partNumber=2&") != std::string::npos;
    if (!stalled) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill_and_reap(child);
  ASSERT_TRUE(stalled) << "the push never reached part 2: " << proxy.log().dump();
  ASSERT_FALSE(server.upload_part_files().empty()) << "the killed push should have left part 1 in the bucket";
  // The archive's upload, and the slice's when it was still going (the two go up side by side).
  EXPECT_GE(s.journal().size(), 1u);

  proxy.fault({{"clear", true}});
  S3Target t(location, settings);
  auto r = s.push(t);
  EXPECT_TRUE(any_contains(r.warnings, "aborted the multipart upload")) << r.to_json().dump(2);
  EXPECT_TRUE(server.upload_part_files().empty()) << server.upload_part_files().size() << " part files left";
  EXPECT_TRUE(s.journal().empty());
  auto report = verify_target(t, nullptr, {});
  EXPECT_TRUE(report.ok()) << report.to_json().dump(2);
  // A push with nothing interrupted says nothing about aborts.
  auto again = s.push(t);
  EXPECT_TRUE(again.warnings.empty()) << again.to_json().dump(2);
}

// Remote retention keeps the newest archive and deletes older ones in its favour. When the newest one the
// index names is gone from the bucket (deleted by hand, by a lifecycle rule), deleting the older ones would
// leave no restorable backup: the push finds it missing first, sends it again from the backup directory when
// it is still there, and otherwise keeps the older archive and takes the missing one out of the index.
TEST(OffsitePushRetention, AnArchiveTheIndexNamesButTheTargetLostIsSentAgainBeforeAnOlderOneIsPrunedInItsFavour) {
  PushSite s;
  DirectoryTarget t(s.tmp.path() / "remote");
  s.push(t);
  const std::string older = BackupCatalog(s.backups).latest("face-recognition")->path.filename().string();
  backup(s.data, s.backups);  // a newer archive of the same day: retention keeps only the newer one
  const std::string newer = BackupCatalog(s.backups).latest("face-recognition")->path.filename().string();
  ASSERT_NE(older, newer);
  s.push(t, {}, /*prune=*/false);
  t.remove("archives/" + newer);  // the target lost it

  auto r = s.push(t);
  EXPECT_TRUE(any_contains(r.warnings, "archive " + newer)) << r.to_json().dump(2);
  EXPECT_TRUE(t.stat("archives/" + newer)) << "sent again from the backup directory";
  EXPECT_FALSE(t.stat("archives/" + older)) << "pruned in favour of the newer one, which is whole again";
  auto report = verify_target(t, nullptr, {});
  EXPECT_TRUE(report.ok()) << report.to_json().dump(2);
}

TEST(OffsitePushRetention, AnArchiveTheTargetLostAndThisMachineNoLongerHasLeavesTheIndexAndTheOlderOneIsKept) {
  PushSite s;
  DirectoryTarget t(s.tmp.path() / "remote");
  s.push(t);
  const std::string older = BackupCatalog(s.backups).latest("face-recognition")->path.filename().string();
  backup(s.data, s.backups);
  const std::string newer = BackupCatalog(s.backups).latest("face-recognition")->path.filename().string();
  s.push(t, {}, /*prune=*/false);
  t.remove("archives/" + newer);
  fs::remove(s.backups / newer);  // and the backup directory no longer has it either
  fs::remove(s.backups / (newer + ".manifest.json"));

  auto r = s.push(t);
  EXPECT_TRUE(any_contains(r.warnings, "archive " + newer)) << r.to_json().dump(2);
  EXPECT_TRUE(r.pruned.empty()) << r.to_json().dump(2);
  ASSERT_TRUE(t.stat("archives/" + older)) << "the only restorable archive was deleted";
  OffsiteStore store(t, s.tmp.path());
  auto index = store.require_index();
  ASSERT_EQ(index.archives.size(), 1u);
  EXPECT_EQ(index.archives[0].name, older);
  auto report = verify_target(t, nullptr, {});
  EXPECT_TRUE(report.ok()) << report.to_json().dump(2);
}

// index.json is what says which backups a target holds and that it is encrypted. When it is gone (deleted by
// hand or by an attacker, or a server answers 404 for it) but the target still holds backups this machine no
// longer has, a push must not write a new index from the backup directory alone: that index would forget
// those backups, and with a configuration that lost its key, start uploading plaintext. Objects a killed
// first push left (all of them still in the backup directory) are not a lost index: the push goes on.
TEST(OffsitePushLostIndex, ATargetThatLostItsIndexIsNotGivenANewOneThatForgetsTheBackupsOnlyItHolds) {
  PushSite s;
  DirectoryTarget t(s.tmp.path() / "remote");
  generate_key_file(s.tmp.path() / "k");
  TargetConfig encrypted;
  encrypted.target = t.url();
  encrypted.encryption = "key";
  encrypted.key_files = {s.tmp.path() / "k"};
  s.push(t, encrypted);
  // Same situation as a first push killed before it wrote the index: everything there is also here.
  t.remove("index.json");
  auto resumed = s.push(t, encrypted);
  EXPECT_FALSE(resumed.uploaded.empty());
  ASSERT_TRUE(t.stat("index.json"));

  const std::string only_remote = BackupCatalog(s.backups).latest("face-recognition")->path.filename().string();
  backup(s.data, s.backups);  // (made first: a backup takes the next second's name only while this one exists)
  fs::remove(s.backups / only_remote);  // the backup directory's own retention removed it
  fs::remove(s.backups / (only_remote + ".manifest.json"));
  t.remove("index.json");
  const auto before = t.list("");
  expect_error([&] { s.push(t, TargetConfig{}); }, ExitCode::kConflict,
               {"has no index.json", "archives/" + only_remote, "nothing was uploaded"});
  EXPECT_EQ(t.list("").size(), before.size());
  EXPECT_FALSE(t.stat("index.json"));
}

// The secret key is never sent, but the session token is (x-amz-security-token), and a server may quote it
// back in an error. A push failing on such an answer names what failed, with the token redacted.
TEST(OffsitePushSecrets, AServerErrorThatQuotesTheSessionTokenReachesTheMessageRedacted) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());
  PushSite s;
  S3Settings settings = S3rver::settings_for(proxy.endpoint());
  const std::string token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789";
  settings.credentials.session_token = Secret(std::string(token));
  S3Target t(parse_bucket_location("s3://facecrowd-test/site"), settings);
  proxy.fault({{"status", 400}, {"echo_token", true}, {"count", 100}});
  try {
    s.push(t);
    FAIL() << "a push answered 400 must fail";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("InvalidToken"), std::string::npos) << m;
    EXPECT_EQ(m.find(token), std::string::npos) << "the session token leaked: " << m;
    EXPECT_NE(m.find(Secret::kRedacted), std::string::npos) << m;
  }
  bool token_sent = false;
  for (const auto& r : proxy.log()) token_sent = token_sent || r["headers"].value("x-amz-security-token", "") == token;
  EXPECT_TRUE(token_sent) << "the proxy must have seen the token for this test to mean anything";
}

// A push that fails part-way (here: the server refuses every upload of the slice) records in the index what
// did go up whole, so the next push sends only what is missing: a push that keeps failing on one object
// must not upload the same archive again at every ship, and no slice is skipped or sent twice.
TEST(OffsitePushInterrupted, APushThatFailsPartWayRecordsWhatWentUpAndTheNextSendsOnlyTheRest) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());
  PushSite s;
  S3Target t(parse_bucket_location("s3://facecrowd-test/site"), S3rver::settings_for(proxy.endpoint()));
  proxy.fault({{"status", 503}, {"count", 100}, {"match", "PUT /facecrowd-test/site/oplog/"}});
  expect_error([&] { s.push(t); }, ExitCode::kIo, {"oplog/", "503"});
  OffsiteStore store(t, s.tmp.path());
  auto partial = store.require_index();
  EXPECT_EQ(partial.archives.size(), 1u);
  EXPECT_TRUE(partial.slices.empty());

  proxy.fault({{"clear", true}});
  auto rest = s.push(t);
  for (const auto& key : rest.uploaded) EXPECT_EQ(key.rfind("oplog/", 0), 0u) << "sent again: " << key;
  EXPECT_EQ(rest.uploaded.size(), 2u) << rest.to_json().dump(2);  // the slice and its record
  auto report = verify_target(t, nullptr, {});
  EXPECT_TRUE(report.ok()) << report.to_json().dump(2);
  auto index = store.require_index();
  EXPECT_EQ(index.archives.size(), 1u);
  EXPECT_EQ(index.slices.size(), 1u);
}
// A slice the server refused (here the second of three: the slices' lane stops there) is absent from the
// index, not marked as sent: the next good push sends it and the one after it, so the target's oplog has no
// gap and a restore from it reaches the last shipped change.
TEST(OffsitePushInterrupted, ASliceThatFailedToGoUpIsSentByTheNextPushAndTheTargetsOplogHasNoGap) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());
  PushSite s;
  for (const char* id : {"later-1", "later-2"}) {
    auto db = Database::open(DataDir::open(s.data), "face-recognition");
    auto w = db->write();
    w.insert("users", Document::from_json({{"_id", id}, {"username", id}}));
    w.commit();
    ship_oplog(DataDir::open(s.data), s.backups, {});
  }
  const auto slices = BackupCatalog(s.backups).slices();
  ASSERT_EQ(slices.size(), 3u);
  const std::string refused = slices[1].path.filename().string();
  S3Target t(parse_bucket_location("s3://facecrowd-test/site"), S3rver::settings_for(proxy.endpoint()));
  proxy.fault({{"status", 503}, {"count", 100}, {"match", "PUT /facecrowd-test/site/" + slice_key(refused)}});
  expect_error([&] { s.push(t); }, ExitCode::kIo, {refused, "503"});
  OffsiteStore store(t, s.tmp.path());
  auto partial = store.require_index();
  EXPECT_EQ(partial.slices.size(), 1u);
  EXPECT_FALSE(partial.find_slice(refused));

  proxy.fault({{"clear", true}});
  auto next = s.push(t);
  EXPECT_TRUE(any_contains(next.uploaded, slice_key(refused))) << next.to_json().dump(2);
  auto index = store.require_index();
  EXPECT_EQ(index.slices.size(), 3u);
  for (const auto& sl : slices) {
    const std::string name = sl.path.filename().string();
    EXPECT_TRUE(index.find_slice(name)) << name;
    EXPECT_TRUE(t.stat(slice_key(name))) << name << " is not in the bucket";
  }
  EXPECT_EQ(index.shipped_position(), slices.back().to);
  auto report = verify_target(t, nullptr, {});
  EXPECT_TRUE(report.ok()) << report.to_json().dump(2);
}

// The index is written at the end of a push. A push killed (SIGKILL: no handler records anything) after its
// archive went up, while its slice was still on its way, sent the whole archive again next time: nothing
// said it was there. The push now writes the index after a large archive (here about 3 MiB) when more of the
// push follows, so the rerun sends only what is missing (the slice and its record), counted in the requests
// the server saw.
TEST(OffsitePushInterrupted, APushKilledAfterItsArchiveWentUpDoesNotSendTheArchiveAgain) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());
  PushSite s(20, 6 << 20);
  S3Settings settings = S3rver::settings_for(proxy.endpoint());
  settings.stall_timeout_s = 60;  // the stalled slice keeps the push going until it is killed
  const auto location = parse_bucket_location("s3://facecrowd-test/site");
  // Every request for the slices' lane stalls, so the push is still running when the archive is up.
  proxy.fault({{"stall", true}, {"count", 100}, {"match", "PUT /facecrowd-test/site/oplog/"}});
  const pid_t child = push_in_child(s, location, settings);
  ASSERT_GT(child, 0);
  // Waits (straight to the server, not through the proxy) until the archive is in the bucket and, with the
  // fix, named by an index; the code before the fix never writes one until the push ends, so the wait then
  // runs out and the push is killed all the same.
  S3Target direct(location, S3rver::settings_for(server.endpoint()));
  OffsiteStore direct_store(direct, s.tmp.path());
  const std::string archive = BackupCatalog(s.backups).latest("face-recognition")->path.filename().string();
  bool recorded = false, archive_up = false;
  for (int i = 0; i < 300 && !recorded; ++i) {
    archive_up = archive_up || direct.stat(archive_key(archive)).has_value();
    // s3rver writes an object's file in place, so a GET while the push writes index.json can read it half
    // written (S3 itself swaps an object whole): that read is refused, and the wait goes on.
    try {
      auto index = direct_store.read_index();
      recorded = index && index->find_archive(archive);
    } catch (const Error&) {
    }
    if (!recorded) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill_and_reap(child);
  ASSERT_TRUE(archive_up) << "the killed push never got its archive up: " << proxy.log().dump();
  ASSERT_GE(direct.stat(archive_key(archive))->size, uint64_t(1) << 20) << "make the archive larger";

  proxy.fault({{"clear", true}});
  const size_t seen_before = proxy.log().size();
  S3Target t(location, settings);
  auto rerun = s.push(t);
  for (const auto& key : rerun.uploaded) EXPECT_EQ(key.rfind("oplog/", 0), 0u) << "sent again: " << key;
  EXPECT_EQ(rerun.uploaded.size(), 2u) << rerun.to_json().dump(2);  // the slice and its record
  auto log = proxy.log();
  int archive_puts = 0;
  for (size_t i = seen_before; i < log.size(); ++i)
    if (log[i]["method"] == "PUT" && log[i]["url"].get<std::string>().find("/archives/") != std::string::npos) ++archive_puts;
  EXPECT_EQ(archive_puts, 0) << "the rerun sent the archive or its manifest copy again";
  auto report = verify_target(t, nullptr, {});
  EXPECT_TRUE(report.ok()) << report.to_json().dump(2);
  auto index = direct_store.require_index();
  EXPECT_EQ(index.archives.size(), 1u);
  EXPECT_EQ(index.slices.size(), 1u);
}

// A push to a directory target copies each object to `<object>.partial-<pid>` and renames it. Killed during
// the copy, it leaves that file (as large as the archive), which nothing lists: the next push deletes it
// (its process no longer runs), says so, and leaves a live process's copy alone.
TEST(OffsitePushInterrupted, ThePartialCopyAKilledPushLeftInADirectoryTargetIsRemovedByTheNextPush) {
  PushSite s;
  DirectoryTarget t(s.tmp.path() / "remote");
  s.push(t);
  pid_t gone = ::fork();
  ASSERT_GE(gone, 0);
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);  // a pid that no longer runs
  const std::string archive = BackupCatalog(s.backups).latest("face-recognition")->path.filename().string();
  const fs::path left = s.tmp.path() / "remote" / "archives" / (archive + ".partial-" + std::to_string(gone));
  const fs::path live = s.tmp.path() / "remote" / "oplog" / ("x.bson.gz.partial-" + std::to_string(::getpid()));
  write_text(left, std::string(100000, 'a'));
  write_text(live, "in progress");
  auto r = s.push(t);
  EXPECT_FALSE(fs::exists(left));
  EXPECT_TRUE(any_contains(r.warnings, left.string())) << r.to_json().dump(2);
  EXPECT_TRUE(fs::exists(live)) << "a running process's copy must be left alone";
}

// An archive's manifest copy is written before the archive takes its final name, so an archive without a
// readable copy lost it (deleted, damaged by a disk). Such an archive was skipped by every push without a
// word: the newest backup never went off-site. The copy is rewritten from the archive's own manifest and
// the archive goes up; one whose own manifest is unreadable too is named in a warning.
TEST(OffsitePush, AnArchiveWhoseManifestCopyIsMissingOrDamagedStillGoesOffSiteAndTheCopyIsRewritten) {
  PushSite s;
  const fs::path archive = BackupCatalog(s.backups).latest("face-recognition")->path;
  const fs::path sidecar = archive.string() + ".manifest.json";
  const std::string original = read_text(sidecar);
  write_text(sidecar, "{\"format\": \"facecrowd-backup\", ");  // torn
  DirectoryTarget t(s.tmp.path() / "remote");
  auto r = s.push(t);
  EXPECT_TRUE(t.stat("archives/" + archive.filename().string())) << r.to_json().dump(2);
  EXPECT_TRUE(any_contains(r.warnings, sidecar.string())) << r.to_json().dump(2);
  EXPECT_EQ(nlohmann::json::parse(read_text(sidecar)), nlohmann::json::parse(original));
  auto report = verify_target(t, nullptr, {});
  EXPECT_TRUE(report.ok()) << report.to_json().dump(2);

  // Missing altogether, and the archive itself damaged: not sent, and said so by name.
  const fs::path second = backup(s.data, s.backups).archive;
  fs::remove(second.string() + ".manifest.json");
  write_text(second, "not a gzip archive");
  auto damaged = s.push(t, {}, /*prune=*/false);
  EXPECT_FALSE(t.stat("archives/" + second.filename().string()));
  EXPECT_TRUE(any_contains(damaged.warnings, "archive '" + second.string() + "' was NOT sent off-site")) << damaged.to_json().dump(2);
}

}  // namespace
}  // namespace facecrowd
