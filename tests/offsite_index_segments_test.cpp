// The slice entries of a target's index live in one segment object per UTC hour (remote_index.h): a push
// rewrites index.json and the segments it changed, not every entry; a format 1 index is migrated; a
// segment is checked against index.json and entry by entry before anything is downloaded by it; retention
// deletes the segments of the slices it pruned; a restore --until reads the slices of every segment before
// T. History of past hours is made by adding slice entries shaped like the real one (their objects are not
// in the bucket: a push never reads a slice object); real slices of later hours by writes replayed at
// those hours' oplog positions.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "backup/catalog.h"
#include "backup/offsite/offsite_store.h"
#include "backup/offsite/offsite_verify.h"
#include "backup/targets/s3_target.h"
#include "core/files.h"
#include "core/sha256.h"
#include "store/oplog_entry.h"
#include "offsite_push_site.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

using namespace push_test;

// Adds to the target's index `n` slice entries like its first one, one a minute, the newest `to` at
// `newest_secs`, going back in time (so over n / 60 past hours).
void add_history(BackupTarget& t, const fs::path& scratch, size_t n, uint32_t newest_secs) {
  OffsiteStore store(t, scratch);
  RemoteIndex index = store.require_index();
  const RemoteSlice real = index.slices.at(0);
  for (size_t k = 0; k < n; ++k) {
    RemoteSlice s = real;
    s.to = {uint32_t(newest_secs - 60 * k), 1};
    s.from = {s.to.secs - 30, 1};
    s.name = slice_file_name(s.from, s.to);
    s.object.key = slice_key(s.name);
    if (s.record) s.record->key = slice_record_key(s.name);
    index.slices.push_back(s);
  }
  std::sort(index.slices.begin(), index.slices.end(), [](const auto& a, const auto& b) { return a.from < b.from; });
  store.write_index(index, nullptr);
}

void write_one_more_and_ship(PushSite& site, const std::string& id) {
  auto db = Database::open(DataDir::open(site.data), "face-recognition");
  auto w = db->write();
  w.insert("users", Document::from_json({{"_id", id}, {"username", id}}));
  w.commit();
  ship_oplog(DataDir::open(site.data), site.backups, {});
}

// Every object under oplog-index/ in a directory target.
std::set<std::string> segment_objects(BackupTarget& t) {
  std::set<std::string> keys;
  for (const auto& o : t.list("oplog-index/")) keys.insert(o.key);
  return keys;
}

// A directory target whose process dies, as a push killed there would, when it is asked for `dies_at`
// ("PUT <key prefix>" or "DELETE <key prefix>").
class DyingTarget : public DirectoryTarget {
 public:
  DyingTarget(fs::path dir, std::string dies_at) : DirectoryTarget(std::move(dir)), dies_at_(std::move(dies_at)) {}
  using DirectoryTarget::put;
  ObjectInfo put(const std::string& key, const fs::path& file, const std::string& known_sha256) override {
    if (("PUT " + key).rfind(dies_at_, 0) == 0) ::_exit(9);
    return DirectoryTarget::put(key, file, known_sha256);
  }
  void remove(const std::string& key) override {
    if (("DELETE " + key).rfind(dies_at_, 0) == 0) ::_exit(9);
    DirectoryTarget::remove(key);
  }

 private:
  std::string dies_at_;
};

// The segment objects in the target that its index.json does not name.
std::set<std::string> unnamed_segments(BackupTarget& t, const fs::path& scratch) {
  OffsiteStore store(t, scratch);
  std::set<std::string> left = segment_objects(t);
  for (const auto& g : store.require_index().segments) left.erase(g.object.key);
  return left;
}

// A push killed after a new segment went up but before index.json named it, or after index.json but before
// the segment it replaced was deleted, leaves a segment object that nothing names: no reader looks at it
// and, before the segment journal, no push ever deleted it. The next push deletes it.
TEST(OffsiteIndexSegments, ASegmentAPushKilledBeforeOrAfterWritingIndexJsonLeftNamedByNothingIsDeletedByTheNextPush) {
  for (const std::string dies_at : {"PUT index.json", "DELETE oplog-index/"}) {
    SCOPED_TRACE(dies_at);
    PushSite site;
    DirectoryTarget t(site.tmp.path() / "remote");
    site.push(t);
    write_one_more_and_ship(site, "in-the-killed-push");
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      DyingTarget dying(site.tmp.path() / "remote", dies_at);
      site.push(dying);
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 9) << "the push did not die at " << dies_at;
    ASSERT_EQ(unnamed_segments(t, site.tmp.path()).size(), 1u) << "the killed push left no unnamed segment object";

    write_one_more_and_ship(site, "next");
    site.push(t);
    EXPECT_EQ(unnamed_segments(t, site.tmp.path()), std::set<std::string>{});
    OffsiteStore store(t, site.tmp.path());
    EXPECT_EQ(store.require_index().slices.size(), 3u);
  }
}

// A segment object that index.json does not name (what a push killed while it rewrote the index leaves, and
// what a lost machine's killed push leaves for good) is named by verify, which still passes: nothing reads it.
TEST(OffsiteVerify, NamesTheSegmentObjectsItsIndexDoesNotNameWithoutFailingTheTarget) {
  PushSite site;
  DirectoryTarget t(site.tmp.path() / "remote");
  site.push(t);
  const std::string stray = "oplog-index/2020-01-01T00-0123456789abcdef.json";
  t.put(stray, site.tmp.path() / "remote" / *segment_objects(t).begin());
  auto report = verify_target(t, nullptr, {});
  EXPECT_TRUE(report.ok()) << report.to_json().dump(2);
  bool named = false;
  for (const auto& c : report.checks) named = named || (c.name == "segment objects" && c.detail.find(stray) != std::string::npos);
  EXPECT_TRUE(named) << report.to_json().dump(2);
}

TEST(OffsiteIndexSegments, APushAfterThousandsOfSlicesUploadsIndexJsonAndOneSegmentNotEveryEntry) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());
  PushSite site;
  S3Target t(parse_bucket_location("s3://facecrowd-test/site"), S3rver::settings_for(proxy.endpoint()));
  site.push(t, {}, false);
  const uint32_t now_secs = uint32_t(now_millis() / 1000);
  add_history(t, site.tmp.path(), 3000, now_secs - 3600);  // 50 hours before this one, ~1.6 MB of entries
  write_one_more_and_ship(site, "one-more");
  const size_t before = proxy.log().size();

  auto pushed = site.push(t, {}, false);
  EXPECT_EQ(pushed.uploaded.size(), 2u) << "the new slice and its record: " << pushed.to_json().dump();
  auto log = proxy.log();
  std::vector<std::string> puts;
  uint64_t index_bytes = 0, segment_bytes = 0;
  int gets = 0;
  for (size_t i = before; i < log.size(); ++i) {
    const auto& r = log[i];
    const std::string url = r["url"], method = r["method"];
    if (method == "GET") {
      ++gets;
      EXPECT_TRUE(url.find("/index.json") != std::string::npos || url.find("/oplog-index/") != std::string::npos)
          << "a push reads index.json and the segment its new slice joins, nothing else: " << url;
    }
    if (method != "PUT") continue;
    puts.push_back(url);
    const uint64_t length = std::stoull(r["headers"].value("content-length", std::string("0")));
    if (url.find("/index.json") != std::string::npos) index_bytes += length;
    if (url.find("/oplog-index/") != std::string::npos) segment_bytes += length;
  }
  EXPECT_LE(gets, 2);
  ASSERT_EQ(puts.size(), 4u) << "the slice, its record, one segment and index.json: " << log.dump();
  EXPECT_EQ(std::count_if(puts.begin(), puts.end(), [](const std::string& u) { return u.find("/oplog-index/") != std::string::npos; }), 1);
  // 3000 entries of ~550 bytes each were ~1.6 MB in format 1's index.json; now 51 segment summaries.
  EXPECT_GT(index_bytes, 0u);
  EXPECT_LT(index_bytes, 64u * 1024) << "index.json no longer holds the entries";
  EXPECT_LT(segment_bytes, 64u * 1024) << "the current hour's segment holds a few entries";
  OffsiteStore store(t, site.tmp.path());
  EXPECT_EQ(store.require_index().slices.size(), 3002u);  // nothing was lost
}

TEST(OffsiteIndexSegments, AFormat1IndexIsReadAndTheNextPushRewritesItAsFormat2WithTheSameSlices) {
  PushSite site;
  const fs::path remote = site.tmp.path() / "remote";
  DirectoryTarget t(remote);
  site.push(t);
  add_history(t, site.tmp.path(), 150, uint32_t(now_millis() / 1000) - 3600);
  // What a target written before segments holds: every entry in index.json, format 1.
  const auto old = format1_index(remote);
  ASSERT_EQ(old["format_version"], 1);
  write_file_durably(site.tmp.path() / "old-index.json", old.dump(1));
  for (const auto& key : segment_objects(t)) t.remove(key);
  t.put("index.json", site.tmp.path() / "old-index.json");
  std::set<std::string> names;
  {
    OffsiteStore store(t, site.tmp.path());
    for (const auto& s : store.require_index().slices) names.insert(s.name);
  }
  ASSERT_EQ(names.size(), 151u);

  auto pushed = site.push(t, {}, false);  // nothing new to send: only the migration
  EXPECT_TRUE(pushed.uploaded.empty()) << pushed.to_json().dump();
  const auto now = nlohmann::json::parse(read_file(remote / "index.json"));
  EXPECT_EQ(now["format_version"], 2);
  EXPECT_FALSE(now.contains("slices"));
  std::set<std::string> listed;
  for (const auto& g : now["slice_segments"]) listed.insert(g["object"]["key"].get<std::string>());
  EXPECT_GE(listed.size(), 3u);
  EXPECT_EQ(listed, segment_objects(t));
  OffsiteStore store(t, site.tmp.path());
  std::set<std::string> after;
  for (const auto& s : store.require_index().slices) after.insert(s.name);
  EXPECT_EQ(after, names);
  // Migrated once: the next push with nothing new writes nothing.
  const std::string text = read_file(remote / "index.json");
  site.push(t, {}, false);
  EXPECT_EQ(read_file(remote / "index.json"), text);
}

TEST(OffsiteIndexSegments, RetentionDeletesTheSegmentsOfTheSlicesItPrunedAndNamesNoneItDeleted) {
  PushSite site;
  const fs::path remote = site.tmp.path() / "remote";
  DirectoryTarget t(remote);
  site.push(t, {}, false);
  // 3 hours of slices that end before the archive starts: retention deletes them all.
  const auto archive_start = BackupCatalog(site.backups).archives().at(0).manifest->oplog_start;
  add_history(t, site.tmp.path(), 180, archive_start.secs - 3600);
  const auto before = segment_objects(t);
  ASSERT_GE(before.size(), 4u);

  write_one_more_and_ship(site, "one-more");
  auto pushed = site.push(t);
  EXPECT_GE(pushed.pruned.size(), 360u) << "the old slices and their records";
  OffsiteStore store(t, site.tmp.path());
  RemoteIndex index = store.require_index();
  EXPECT_EQ(index.slices.size(), 2u);
  std::set<std::string> listed;
  for (const auto& g : index.segments) listed.insert(g.object.key);
  EXPECT_EQ(listed, segment_objects(t)) << "no segment object is left that the index does not name";
  EXPECT_LE(listed.size(), 2u);
  EXPECT_LT(index.slices_pruned_through, archive_start);
  EXPECT_FALSE(index.slices_pruned_through.is_null());
}

// Writes user `id` with oplog position `ts` (a replayed entry keeps its position: later writes continue after
// it), then ships it: a slice whose `to` lies in the hour of `ts`.
void write_at_and_ship(PushSite& site, const std::string& id, OplogTimestamp ts) {
  auto db = Database::open(DataDir::open(site.data), "face-recognition");
  auto w = db->write();
  w.replay(OplogEntry{ts, 'i', "face-recognition.users", Document::from_json({{"_id", id}, {"username", id}})});
  w.commit();
  ship_oplog(DataDir::open(site.data), site.backups, {});
}

// Slices in three hours' segments: a restore --until in the last hour reads the slices of all of them, in
// order, up to T and no further.
TEST(OffsiteRestore, AnUntilInALaterHourReplaysTheSlicesOfEverySegmentBeforeIt) {
  PushSite site;  // the archive, and user "late" in a slice of this hour
  const uint32_t next_hour = uint32_t(now_millis() / 3600000 + 1) * 3600;
  write_at_and_ship(site, "next-hour", {next_hour + 60, 1});
  write_at_and_ship(site, "two-hours-on", {next_hour + 3600 + 60, 1});
  write_at_and_ship(site, "after-until", {next_hour + 3600 + 180, 1});
  const fs::path remote = site.tmp.path() / "remote", machine = site.tmp.path() / "machine";
  DirectoryTarget t(remote);
  site.push(t);
  ASSERT_EQ(nlohmann::json::parse(read_file(remote / "index.json"))["slice_segments"].size(), 3u);

  const OplogTimestamp until{next_hour + 3600 + 120, 1};
  auto r = run_facecrowd("--data " + (machine / "data").string() + " --backup-dir " + (machine / "backup").string() +
                         " restore latest --target " + remote.string() + " --json --until " + until.to_string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto users = snapshot(machine / "data", "face-recognition")["users"];
  EXPECT_TRUE(users.count("late"));
  EXPECT_TRUE(users.count("next-hour"));
  EXPECT_TRUE(users.count("two-hours-on"));
  EXPECT_FALSE(users.count("after-until"));
}

// An attacker with write access to a directory target, or a damaged copy: the segments are checked against
// index.json before they are parsed, and entry by entry after, each refusal naming the object and field.
struct SegmentBucket {
  PushSite site;
  fs::path remote = site.tmp.path() / "remote";
  fs::path machine = site.tmp.path() / "machine";
  DirectoryTarget t{remote};
  SegmentBucket() { site.push(t); }
  nlohmann::json index() const { return nlohmann::json::parse(read_file(remote / "index.json")); }
  std::string segment_key() const { return index()["slice_segments"][0]["object"]["key"]; }
  void write_json(const std::string& key, const nlohmann::json& j) {
    write_file_durably(site.tmp.path() / "edited.json", j.dump(1));
    t.put(key, site.tmp.path() / "edited.json");
  }
  // Rewrites the first segment under the key its new content gives (slice_segment_key) and records that key,
  // its size and sha256 in index.json, as one who can write the bucket would.
  void edit_segment(const std::function<void(nlohmann::json&)>& edit) {
    auto index_json = index();
    auto& object = index_json["slice_segments"][0]["object"];
    auto segment = nlohmann::json::parse(read_file(remote / object["key"].get<std::string>()));
    edit(segment);
    const std::string text = segment.dump(1);
    const std::string key = slice_segment_key(index_json["slice_segments"][0]["hour"].get<std::string>(), sha256_hex(text));
    write_file_durably(remote / key, text);
    write_file_durably(remote / (key + ".sha256"), sha256_hex(text));
    object = {{"key", key}, {"size", text.size()}, {"sha256", sha256_hex(text)}};
    write_json("index.json", index_json);
  }
  CommandResult restore() const {
    return run_facecrowd("--data " + (machine / "data").string() + " --backup-dir " + (machine / "backup").string() +
                         " restore latest --target " + remote.string());
  }
  // A reader refuses the target's index as it is now (kBadInput), naming each of `parts`.
  void expect_index_refused(const std::vector<std::string>& parts) {
    OffsiteStore store(t, site.tmp.path());
    try {
      store.require_index();
      ADD_FAILURE() << "not refused: " << parts.back();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
      for (const auto& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << part << " in: " << e.what();
    }
  }
};

TEST(HostileIndex, ASegmentChangedTruncatedOrMissingInTheBucketIsRefusedNamingItAndNothingIsRestored) {
  SegmentBucket b;
  const std::string key = b.segment_key();
  const std::string original = read_file(b.remote / key);
  const std::vector<std::pair<std::string, std::function<void()>>> damages = {
      {"sha256", [&] { write_file_durably(b.remote / key, std::string(original).replace(original.find("oplog_"), 1, "O")); }},
      {"truncated", [&] { write_file_durably(b.remote / key, original.substr(0, original.size() / 2)); }},
      {"missing", [&] { fs::remove(b.remote / key); }},
  };
  for (const auto& [name, damage] : damages) {
    damage();
    auto r = b.restore();
    EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << name << ": " << r.out << r.err;
    EXPECT_NE(r.err.find(key), std::string::npos) << name << ": " << r.err;
    EXPECT_FALSE(fs::exists(b.machine / "data")) << name;
    EXPECT_FALSE(fs::exists(b.machine / "backup")) << name;
    auto l = run_facecrowd("backups list --target " + b.remote.string());
    EXPECT_EQ(l.exit_code, int(ExitCode::kBadInput)) << name << ": " << l.out << l.err;
    write_file_durably(b.remote / key, original);
  }
  // And a push refuses it too, changing nothing, rather than writing an index over what it cannot read.
  write_file_durably(b.remote / key, original.substr(0, original.size() / 2));
  write_one_more_and_ship(b.site, "one-more");
  const std::string index_before = read_file(b.remote / "index.json");
  expect_error([&] { b.site.push(b.t); }, ExitCode::kBadInput, {key});
  EXPECT_EQ(read_file(b.remote / "index.json"), index_before);
}

TEST(HostileIndex, SegmentEntriesAreRefusedByFieldOutsideTheirHourListedTwiceOrUnlikeTheirSummary) {
  SegmentBucket b;
  const auto original_index = b.index();
  // An edited segment goes under a key of its own (edit_segment): the refusals name its hour's keys.
  const std::string key = b.segment_key().substr(0, b.segment_key().size() - std::string("0123456789abcdef.json").size());
  const std::string original_segment = read_file(b.remote / b.segment_key());
  const auto segment = nlohmann::json::parse(original_segment);
  struct Case {
    std::function<void()> edit;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {[&] { b.edit_segment([](auto& j) { j["slices"][0]["name"] = "../../planted_oplog.bson.gz"; }); }, {key, "slices[0].name"}},
      {[&] { b.edit_segment([](auto& j) { j["slices"][0]["object"]["size"] = -1; }); }, {key, "slices[0].object.size"}},
      {[&] { b.edit_segment([](auto& j) { j["slices"][0]["object"]["key"] = "archives/x.tar.gz"; }); }, {key, "slices[0].object.key"}},
      // An entry two hours earlier, its name and keys made to match: not in this segment's hour.
      {[&] {
         b.edit_segment([](nlohmann::json& j) {
           auto& s = j["slices"][0];
           auto to = *parse_oplog_timestamp(s["to"].get<std::string>());
           to.secs -= 7200;
           const OplogTimestamp from{to.secs - 1, 0};
           const std::string name = slice_file_name(from, to);
           s["from"] = from.to_string(), s["to"] = to.to_string(), s["name"] = name;
           s["object"]["key"] = slice_key(name);
           s["record"]["key"] = slice_record_key(name);
         });
       },
       {key, "slices[0].to", "is not in the segment's hour"}},
      // index.json's summary no longer what the segment holds (push decides by it without downloading).
      {[&] {
         auto j = original_index;
         j["slice_segments"][0]["count"] = 2;
         b.write_json("index.json", j);
       },
       {key, "summary"}},
      // The same entry in the next hour's segment too.
      {[&] {
         auto j = original_index;
         auto g = j["slice_segments"][0];
         const auto hour = *parse_iso8601(g["hour"].get<std::string>() + ":00") + 3600000;
         g["hour"] = format_iso8601(hour).substr(0, 13);
         g["first_to"] = g["last_to"] = OplogTimestamp{uint32_t(hour / 1000), 1}.to_string();  // the summary says this hour
         auto copy = segment;
         copy["hour"] = g["hour"];
         const std::string text = copy.dump(1);
         g["object"] = {{"key", "oplog-index/" + g["hour"].get<std::string>() + "-" + sha256_hex(text).substr(0, 16) + ".json"},
                        {"size", text.size()}, {"sha256", sha256_hex(text)}};
         b.write_json(g["object"]["key"], copy);
         j["slice_segments"].push_back(g);
         b.write_json("index.json", j);
       },
       {"slices[0].name", "is listed twice"}},
      {[&] {
         auto j = original_index;
         j["slice_segments"][0]["object"]["key"] = "oplog-index/../index.json";
         b.write_json("index.json", j);
       },
       {"slice_segments[0].object.key", "not where the layout puts"}},
      {[&] {
         auto j = original_index;
         j["slice_segments"][0]["hour"] = "2026-13-01T00";
         b.write_json("index.json", j);
       },
       {"slice_segments[0].hour"}},
  };
  for (const auto& c : cases) {
    c.edit();
    b.expect_index_refused(c.parts);
    auto r = b.restore();
    EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.out << r.err;
    EXPECT_FALSE(fs::exists(b.site.tmp.path() / "planted_oplog.bson.gz"));
    EXPECT_FALSE(fs::exists(b.machine / "data"));
    b.write_json("index.json", original_index);
  }
}

// A segment's key carries 16 hex digits of its content's sha256 (remote_index.h), but a reader checked only
// the sha256 index.json records for it: an index naming the same content under another key (one no push
// writes) was read as if it were the segment's own. Refused, naming the key, before anything is restored.
TEST(OffsiteIndexSegments, ASegmentKeyWhoseDigitsAreNotThoseOfItsContentsSha256IsRefusedNamingTheKey) {
  SegmentBucket b;
  const std::string key = b.segment_key();
  const std::string content = read_file(b.remote / key);
  const std::string hour = b.index()["slice_segments"][0]["hour"];
  const std::string other = "oplog-index/" + hour + "-0123456789abcdef.json";
  write_file_durably(b.remote / other, content);
  write_file_durably(b.remote / (other + ".sha256"), sha256_hex(content));
  auto j = b.index();
  j["slice_segments"][0]["object"]["key"] = other;
  b.write_json("index.json", j);
  b.expect_index_refused({"slice_segments[0].object.key", "\"" + other + "\"", "does not carry the first 16 hex digits",
                          sha256_hex(content).substr(0, 16)});
  auto r = b.restore();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.out << r.err;
  EXPECT_NE(r.err.find(other), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(b.machine / "data"));
  EXPECT_FALSE(fs::exists(b.machine / "backup"));
}

// A reader read a segment object whole into memory whatever its size, and downloaded every segment an index
// listed, however many: a bucket others can write to could make a restore read gigabytes. The bounds of
// remote_index.h refuse, by the sizes and counts index.json records, before any segment is downloaded.
TEST(OffsiteIndexSegments, AHugeSegmentOrAnIndexListingMoreSegmentsThanAnyPushWritesIsRefusedBeforeAnySegmentIsRead) {
  SegmentBucket b;
  const auto original = b.index();
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {[](nlohmann::json& j) { j["slice_segments"][0]["object"]["size"] = kMaxSegmentBytes + 1; },
       {"slice_segments[0].object.size", std::to_string(kMaxSegmentBytes + 1) + " bytes is more than a segment of at most 3600 slices can be"}},
      {[](nlohmann::json& j) { j["slice_segments"][0]["count"] = kMaxSegmentSlices + 1; },
       {"slice_segments[0].count", "3601 is more slices than a segment holds (at most 3600"}},
      // 87,841 hours, each with a well-formed summary: each would be downloaded.
      {[](nlohmann::json& j) {
         const auto first = j["slice_segments"][0];
         const UnixMillis start = *parse_iso8601("2000-01-01T00:00:00Z");
         j["slice_segments"] = nlohmann::json::array();
         for (size_t i = 0; i <= kMaxSegments; ++i) {
           auto g = first;
           const UnixMillis hour = start + UnixMillis(i) * 3600000;
           g["hour"] = format_iso8601(hour).substr(0, 13);
           g["first_to"] = g["last_to"] = OplogTimestamp{uint32_t(hour / 1000), 1}.to_string();
           g["object"]["key"] = slice_segment_key(g["hour"].get<std::string>(), g["object"]["sha256"].get<std::string>());
           j["slice_segments"].push_back(std::move(g));
         }
       },
       {"slice_segments lists 87841 segments, more than a target holds (at most 87840"}},
  };
  for (const auto& c : cases) {
    auto j = original;
    c.edit(j);
    b.write_json("index.json", j);
    b.expect_index_refused(c.parts);
  }
  b.write_json("index.json", original);
}

// A push never writes what a reader would refuse: an hour with more slices than a segment holds is refused
// before anything is uploaded (exit 5), naming the hour.
TEST(OffsiteIndexSegments, AnHourWithMoreSlicesThanASegmentHoldsIsRefusedByThePushBeforeItUploadsAnything) {
  RemoteIndex index;
  const uint32_t hour = uint32_t(*parse_iso8601("2026-03-02T10:00:00Z") / 1000);
  for (uint32_t i = 0; i <= kMaxSegmentSlices; ++i) {
    RemoteSlice s;
    s.from = {hour, i + 1};
    s.to = {hour, i + 2};
    s.name = slice_file_name(s.from, s.to);
    s.object = {slice_key(s.name), 10, std::string(64, 'a'), "", "", ""};
    index.slices.push_back(s);
  }
  try {
    index.rebuild_segments();
    ADD_FAILURE() << "an hour of 3601 slices was made into a segment";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kConflict) << e.what();
    EXPECT_NE(std::string(e.what()).find("hour 2026-03-02T10 are 3601, more than a restore reads in one hour (3600"), std::string::npos)
        << e.what();
  }
  index.slices.pop_back();
  EXPECT_EQ(index.rebuild_segments().size(), 1u);
}

}  // namespace
}  // namespace facecrowd
