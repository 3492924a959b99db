// `facecrowd backup`: archive layout and manifest, --collection, consistency under concurrent writes,
// failures that must leave nothing under a final name (disk full, read-only directory, kill -9),
// retention and the backup log.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "backup/backup_job.h"
#include "backup/catalog.h"
#include "core/error.h"
#include "core/fault_file_system.h"
#include "core/files.h"
#include "core/sha256.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "test_support.h"

extern char** environ;

namespace facecrowd {
namespace {

const std::string kDb{kDefaultDatabase};

// The members of a (small) archive, in order.
std::vector<std::pair<std::string, std::string>> read_members(const fs::path& path) {
  std::vector<std::pair<std::string, std::string>> out;
  archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_filename(a, path.c_str(), 1 << 16), ARCHIVE_OK) << archive_error_string(a);
  archive_entry* entry;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    std::string content(size_t(archive_entry_size(entry)), '\0');
    if (!content.empty()) {
      EXPECT_EQ(archive_read_data(a, content.data(), content.size()), la_ssize_t(content.size()));
    }
    out.emplace_back(archive_entry_pathname(entry), std::move(content));
  }
  archive_read_free(a);
  return out;
}

std::map<std::string, std::string> members_by_path(const fs::path& archive_path, const std::string& top) {
  std::map<std::string, std::string> out;
  for (auto& [p, c] : read_members(archive_path)) {
    EXPECT_EQ(p.rfind(top, 0), 0u) << p << " is not under " << top;
    out[p.substr(top.size())] = c;
  }
  return out;
}

std::string top_folder(const fs::path& archive_path) {
  std::string name = archive_path.filename();
  return name.substr(0, name.size() - std::string(".tar.gz").size()) + "/";
}

std::vector<Document> decode_bson_stream(const std::string& bytes, const std::string& what) {
  std::vector<Document> docs;
  BsonStreamReader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), what);
  const uint8_t* d;
  size_t n;
  while (reader.next(&d, &n)) docs.push_back(Document::from_bytes(d, n, what));
  return docs;
}

// A GridFS-style chunk of `size` random (incompressible) bytes.
Document random_chunk(const std::string& files_id, int n, size_t size, std::mt19937_64& rng) {
  std::string data(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t v = rng();
    std::memcpy(&data[i], &v, 8);
  }
  bson_t* b = bson_new();
  BSON_APPEND_UTF8(b, "files_id", files_id.c_str());
  BSON_APPEND_INT32(b, "n", n);
  BSON_APPEND_BINARY(b, "data", BSON_SUBTYPE_BINARY, reinterpret_cast<const uint8_t*>(data.data()), uint32_t(size));
  return Document(b);
}

void add_random_chunks(Database& db, int chunks, size_t chunk_bytes) {
  std::mt19937_64 rng(42);
  auto w = db.write();
  for (int i = 0; i < chunks; ++i) w.insert("fs.chunks", random_chunk("file" + std::to_string(i), 0, chunk_bytes, rng));
  w.commit();
}

void add_sample_data(Database& db) {
  auto w = db.write();
  w.insert("users", Document::from_json({{"username", "ann"}, {"role", "admin"}}));
  w.insert("users", Document::from_json({{"username", "bob"}, {"role", "operator"}}));
  for (int i = 0; i < 3; ++i) w.insert("faceprofiles", Document::from_json({{"name", "person" + std::to_string(i)}}));
  for (int i = 0; i < 5; ++i)
    w.insert("attendances", Document::from_json({{"personId", "p" + std::to_string(i)}, {"session", "s1"},
                                                 {"timestamp", {{"$date", 1704240000000 + i}}}}));
  w.commit();
}

std::vector<nlohmann::json> log_lines(const fs::path& backup_dir) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text(BackupCatalog(backup_dir).log_file()));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Every name in `dir`, sorted.
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

bool has_final_archive(const fs::path& dir) {
  static const std::regex final_re(R"(backup_.*_\d{8}_\d{6}\.tar\.gz)");
  for (const auto& name : names_in(dir))
    if (std::regex_match(name, final_re)) return true;
  return false;
}

TEST(BackupArchive, LayoutAndManifestDescribeEveryMember) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  auto db = Database::open(data, kDb);
  add_sample_data(*db);
  OplogTimestamp position = db->read().position();

  auto result = run_backup(data, tmp.path() / "backup", {});
  ASSERT_TRUE(fs::exists(result.archive));
  EXPECT_TRUE(std::regex_match(result.archive.filename().string(),
                               std::regex(R"(backup_face-recognition_\d{8}_\d{6}\.tar\.gz)")));
  EXPECT_EQ(result.bytes, fs::file_size(result.archive));
  EXPECT_EQ(result.manifest.oplog_start, position);
  EXPECT_EQ(result.manifest.oplog_end, position);
  EXPECT_EQ(result.manifest.oplog_entries, 0);

  const std::string top = top_folder(result.archive);
  auto ordered = read_members(result.archive);
  ASSERT_FALSE(ordered.empty());
  EXPECT_EQ(ordered.back().first, top + "manifest.json");  // last, so a streaming reader has seen all
  auto members = members_by_path(result.archive, top);

  auto manifest = Manifest::parse(members.at("manifest.json"), "manifest.json");
  EXPECT_EQ(manifest.to_json(), result.manifest.to_json());
  fs::path sidecar = result.archive;
  sidecar += ".manifest.json";
  EXPECT_EQ(Manifest::parse(read_text(sidecar), "sidecar").to_json(), manifest.to_json());
  EXPECT_EQ(manifest.db, kDb);
  EXPECT_EQ(manifest.collections.size(), collection_specs().size());

  // Every member but manifest.json is listed, with a sha256 and size recomputed here.
  EXPECT_EQ(manifest.files.size(), members.size() - 1);
  for (const auto& f : manifest.files) {
    ASSERT_TRUE(members.count(f.path)) << f.path;
    EXPECT_EQ(f.sha256, sha256_hex(members.at(f.path))) << f.path;
    EXPECT_EQ(f.bytes, members.at(f.path).size()) << f.path;
    bool is_bson = f.path.ends_with(".bson");
    if (is_bson) EXPECT_EQ(f.documents, int64_t(decode_bson_stream(members.at(f.path), f.path).size())) << f.path;
    else EXPECT_EQ(f.documents, -1) << f.path;
  }
  for (const auto& spec : collection_specs()) {
    EXPECT_TRUE(members.count(kDb + "/" + spec.name + ".bson")) << spec.name;
    EXPECT_TRUE(members.count(kDb + "/" + spec.name + ".metadata.json")) << spec.name;
  }
  EXPECT_TRUE(members.count("oplog.bson"));

  // The documents are the stored ones.
  auto users = decode_bson_stream(members.at(kDb + "/users.bson"), "users.bson");
  std::set<std::string> names;
  for (const auto& u : users) names.insert(u.to_json()["username"]);
  EXPECT_EQ(names, (std::set<std::string>{"ann", "bob"}));
  EXPECT_EQ(manifest.find_file(kDb + "/attendances.bson")->documents, 5);
  EXPECT_EQ(manifest_counts(manifest)["faceprofiles"], 3);

  // mongodump-like metadata: _id_ first, compound keys in order, unique flags.
  auto meta = nlohmann::ordered_json::parse(members.at(kDb + "/attendances.metadata.json"));
  EXPECT_EQ(meta["collectionName"], "attendances");
  EXPECT_EQ(meta["indexes"][0]["name"], "_id_");
  EXPECT_EQ(meta["indexes"][1]["name"], "personId_1_timestamp_1");
  EXPECT_EQ(meta["indexes"][1]["key"].begin().key(), "personId");
  auto files_meta = nlohmann::json::parse(members.at(kDb + "/fs.files.metadata.json"));
  EXPECT_EQ(files_meta["indexes"][1]["key"], nlohmann::json({{"sha256", 1}}));
  EXPECT_EQ(files_meta["indexes"][1]["unique"], true);
  EXPECT_EQ(files_meta["indexes"][2]["key"], nlohmann::json({{"metadata.kind", 1}}));

  // Nothing else was left behind: the archive, its sidecar and the log.
  EXPECT_EQ(names_in(tmp.path() / "backup").size(), 3u);
}

TEST(BackupArchive, SecondBackupInTheSameSecondGetsTheNextSecondsName) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  add_sample_data(*Database::open(data, kDb));
  auto first = run_backup(data, tmp.path() / "backup", {});
  auto second = run_backup(data, tmp.path() / "backup", {});
  EXPECT_NE(first.archive, second.archive);
  EXPECT_TRUE(fs::exists(first.archive));
  EXPECT_TRUE(fs::exists(second.archive));
  EXPECT_EQ(BackupCatalog(tmp.path() / "backup").archives(kDb).size(), 2u);
}

TEST(BackupCollections, CollectionFlagLimitsTheArchive) {
  TempDir tmp;
  add_sample_data(*Database::open(DataDir::open(tmp.path() / "data"), kDb));
  auto r = run_facecrowd("--data '" + (tmp.path() / "data").string() + "' backup --out '" +
                         (tmp.path() / "b").string() + "' --collection faceprofiles --collection users --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = nlohmann::json::parse(r.out);
  fs::path archive = out["archive"].get<std::string>();
  EXPECT_EQ(out["counts"], nlohmann::json({{"users", 2}, {"faceprofiles", 3}}));
  auto members = members_by_path(archive, top_folder(archive));
  std::set<std::string> paths;
  for (const auto& [p, c] : members) paths.insert(p);
  EXPECT_EQ(paths, (std::set<std::string>{kDb + "/users.bson", kDb + "/users.metadata.json", kDb + "/faceprofiles.bson",
                                          kDb + "/faceprofiles.metadata.json", "oplog.bson", "manifest.json",
                                          "erasure-ledger.jsonl"}));  // the ledger travels with every archive
  auto manifest = Manifest::parse(members.at("manifest.json"), "manifest");
  EXPECT_EQ(manifest.collections, (std::vector<std::string>{"users", "faceprofiles"}));
}

TEST(BackupCollections, UnknownCollectionIsRefusedBeforeWritingAnything) {
  TempDir tmp;
  add_sample_data(*Database::open(DataDir::open(tmp.path() / "data"), kDb));
  auto r = run_facecrowd("--data '" + (tmp.path() / "data").string() + "' backup --out '" +
                         (tmp.path() / "b").string() + "' --collection faceprofile");
  EXPECT_EQ(r.exit_code, int(ExitCode::kNotFound));
  EXPECT_NE(r.err.find("faceprofile"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("faceprofiles"), std::string::npos) << "should list the known collections: " << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "b"));
}

TEST(BackupCollections, MissingDatabaseFailsAndIsLogged) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  BackupOptions options;
  options.db = "nonesuch";
  try {
    run_backup(data, tmp.path() / "b", options);
    FAIL() << "backup of a missing database succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kNotFound);
  }
  EXPECT_FALSE(has_final_archive(tmp.path() / "b"));
  auto lines = log_lines(tmp.path() / "b");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["outcome"], "failed");
  EXPECT_EQ(lines[0]["db"], "nonesuch");
  EXPECT_NE(lines[0]["error"].get<std::string>().find("nonesuch"), std::string::npos) << lines[0];
}

// Writes go on in another thread (own connection) during the backup: the dump must be exactly the
// documents whose insert is at or before oplog.start, and oplog.bson exactly those after it.
TEST(BackupSnapshot, ConcurrentWritesMatchOneOplogPosition) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  auto db = Database::open(data, kDb);
  add_random_chunks(*db, 100, 200 << 10);  // ~20 MB to compress: the dump takes a while

  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    auto own = Database::open(data, kDb);
    for (int n = 0; !stop; ++n) {
      auto w = own->write();
      w.insert("attendances", Document::from_json({{"n", n}, {"personId", "p"}, {"session", "s"}}));
      w.commit();
      written = n + 1;
    }
  });
  while (written < 10) std::this_thread::yield();  // writes are under way before the snapshot
  BackupResult result;
  try {
    result = run_backup(data, tmp.path() / "backup", {});
  } catch (...) {
    stop = true;
    writer.join();
    throw;
  }
  stop = true;
  writer.join();

  // n -> ts of its insert, from the live oplog.
  std::map<int, OplogTimestamp> inserted_at;
  {
    auto r = db->read();
    r.scan_oplog({}, r.position(), [&](OplogTimestamp ts, std::string_view e) {
      auto entry = decode_oplog_entry(reinterpret_cast<const uint8_t*>(e.data()), e.size(), "oplog");
      if (entry.op == 'i' && entry.collection() == "attendances") inserted_at[entry.o.to_json()["n"].get<int>()] = ts;
    });
  }
  const auto& m = result.manifest;
  std::set<int> expected_dump, expected_oplog;
  for (const auto& [n, ts] : inserted_at) {
    if (ts <= m.oplog_start) expected_dump.insert(n);
    else if (ts <= m.oplog_end) expected_oplog.insert(n);
  }

  auto members = members_by_path(result.archive, top_folder(result.archive));
  std::set<int> dumped;
  for (const auto& d : decode_bson_stream(members.at(kDb + "/attendances.bson"), "attendances.bson"))
    dumped.insert(d.to_json()["n"].get<int>());
  EXPECT_EQ(dumped, expected_dump);
  EXPECT_GE(dumped.size(), 10u);

  std::set<int> in_oplog;
  OplogTimestamp previous = m.oplog_start;
  int64_t entries = 0;
  for (const auto& d : decode_bson_stream(members.at("oplog.bson"), "oplog.bson")) {
    auto entry = decode_oplog_entry(reinterpret_cast<const uint8_t*>(d.bytes().data()), d.bytes().size(), "oplog.bson");
    EXPECT_GT(entry.ts, previous);  // strictly after start, in order
    EXPECT_LE(entry.ts, m.oplog_end);
    previous = entry.ts;
    ++entries;
    in_oplog.insert(entry.o.to_json()["n"].get<int>());
  }
  EXPECT_EQ(entries, m.oplog_entries);
  EXPECT_EQ(in_oplog, expected_oplog);
  EXPECT_GT(entries, 0) << "no write landed during the backup; the test did not exercise concurrency";
}

// The disk of the backup directory fills after 2 MiB (core/fault_file_system.h: no root, no tmpfs).
TEST(BackupFailures, DiskFullLeavesNoArchiveAndKeepsOldOnes) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "small");
  FaultFileSystem full_disk;
  full_disk.add({.op = FaultOp::kWrite, .path_contains = (tmp.path() / "small").string(), .after_bytes = 2 << 20,
                 .error = ENOSPC});
  ScopedFileSystem scope(full_disk);
  auto data = DataDir::open(tmp.path() / "data");
  add_random_chunks(*Database::open(data, kDb), 16, 256 << 10);  // 4 MB, incompressible
  const std::string old_name = "backup_face-recognition_20200101_010000.tar.gz";
  write_text(tmp.path() / "small" / old_name, "old archive");

  try {
    run_backup(data, tmp.path() / "small", {});
    FAIL() << "a 4 MB backup fitted into a 2 MB file system";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
    EXPECT_NE(std::string(e.what()).find((tmp.path() / "small").string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No space left"), std::string::npos) << e.what();
  }
  EXPECT_EQ(full_disk.fired(), 1);
  EXPECT_EQ(names_in(tmp.path() / "small"), (std::vector<std::string>{"backup-log.jsonl", old_name}))
      << "no partial, no sidecar; the old archive is not pruned after a failure";
  auto lines = log_lines(tmp.path() / "small");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["outcome"], "failed");
  EXPECT_NE(lines[0]["error"].get<std::string>().find("No space left"), std::string::npos);
}

TEST(BackupFailures, ReadOnlyBackupDirectoryIsRefused) {
  TempDir tmp;
  TmpfsMount mount(tmp.path() / "ro", "ro,size=1m");
  if (!mount.ok()) GTEST_SKIP() << "needs root and tmpfs mounts for a read-only directory";
  add_sample_data(*Database::open(DataDir::open(tmp.path() / "data"), kDb));
  auto r = run_facecrowd("--data '" + (tmp.path() / "data").string() + "' --backup-dir '" +
                         (tmp.path() / "ro").string() + "' backup");
  EXPECT_EQ(r.exit_code, int(ExitCode::kIo));
  EXPECT_NE(r.err.find((tmp.path() / "ro").string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not writable"), std::string::npos) << r.err;
  EXPECT_TRUE(names_in(tmp.path() / "ro").empty());
}

TEST(BackupFailures, KilledBackupLeavesOnlyAPartialThatTheNextBackupRemoves) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  add_random_chunks(*Database::open(data, kDb), 256, 256 << 10);  // 64 MB: seconds of gzip
  const fs::path backup_dir = tmp.path() / "backup";
  fs::create_directories(backup_dir);

  std::string data_arg = (tmp.path() / "data").string(), dir_arg = backup_dir.string();
  std::vector<const char*> argv = {FACECROWD_BINARY, "--quiet", "--data", data_arg.c_str(), "--backup-dir",
                                   dir_arg.c_str(), "backup", nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, FACECROWD_BINARY, &actions, nullptr, const_cast<char**>(argv.data()), environ), 0);
  posix_spawn_file_actions_destroy(&actions);

  const std::string partial_suffix = ".partial-" + std::to_string(pid);
  bool seen = false;
  int status = 0;
  while (!seen && ::waitpid(pid, &status, WNOHANG) == 0) {
    for (const auto& name : names_in(backup_dir)) {
      std::error_code ec;
      if (name.ends_with(partial_suffix) && fs::file_size(backup_dir / name, ec) > (1 << 20)) seen = true;
    }
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(seen) << "the backup finished before it could be killed; make the data larger";
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);

  EXPECT_FALSE(has_final_archive(backup_dir));
  EXPECT_TRUE(BackupCatalog(backup_dir).archives().empty());
  auto after_kill = names_in(backup_dir);
  ASSERT_EQ(after_kill.size(), 1u);
  EXPECT_TRUE(after_kill[0].ends_with(partial_suffix)) << after_kill[0];

  auto result = run_backup(data, backup_dir, {});
  EXPECT_EQ(names_in(backup_dir),
            (std::vector<std::string>{"backup-log.jsonl", result.archive.filename().string(),
                                      result.archive.filename().string() + ".manifest.json"}))
      << "the dead process's partial is removed";
  EXPECT_EQ(result.manifest.find_file(kDb + "/fs.chunks.bson")->documents, 256);
}

TEST(BackupRetention, PrunesOldArchivesOfThisDatabaseOnlyAfterSuccess) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  add_sample_data(*Database::open(data, kDb));
  const fs::path dir = tmp.path() / "backup";
  fs::create_directories(dir);
  const std::string old_name = "backup_face-recognition_20200101_010000.tar.gz";
  const std::string other_db_old = "backup_other_20200101_010000.tar.gz";
  const std::string recent = archive_file_name(kDb, now_millis() - 2 * 86'400'000LL);
  for (const auto& n : {old_name, other_db_old, recent, old_name + ".manifest.json"}) write_text(dir / n, "x");
  write_text(dir / "notes.txt", "not ours");

  // A failed run prunes nothing.
  BackupOptions missing;
  missing.db = "face-recognition-missing";
  EXPECT_THROW(run_backup(data, dir, missing), Error);
  EXPECT_THROW(run_backup(DataDir::open(tmp.path() / "empty"), dir, {}), Error);
  EXPECT_TRUE(fs::exists(dir / old_name));

  auto result = run_backup(data, dir, {});
  ASSERT_EQ(result.pruned.size(), 1u);
  EXPECT_EQ(result.pruned[0].filename(), old_name);
  EXPECT_FALSE(fs::exists(dir / old_name));
  EXPECT_FALSE(fs::exists(dir / (old_name + ".manifest.json")));
  EXPECT_TRUE(fs::exists(dir / other_db_old));
  EXPECT_TRUE(fs::exists(dir / recent));
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));
  EXPECT_TRUE(fs::exists(result.archive));

  // keep_days 0 never prunes.
  BackupOptions keep_all;
  keep_all.keep_days = 0;
  write_text(dir / old_name, "x");
  EXPECT_TRUE(run_backup(data, dir, keep_all).pruned.empty());
  EXPECT_TRUE(fs::exists(dir / old_name));
}

TEST(BackupLog, EachRunAppendsOneLine) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  add_sample_data(*Database::open(data, kDb));
  const fs::path dir = tmp.path() / "backup";
  auto ok = run_backup(data, dir, {});
  BackupOptions missing;
  missing.db = "gone";
  EXPECT_THROW(run_backup(data, dir, missing), Error);

  auto lines = log_lines(dir);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["outcome"], "ok");
  EXPECT_EQ(lines[0]["archive"], ok.archive.filename().string());
  EXPECT_EQ(lines[0]["bytes"], ok.bytes);
  EXPECT_EQ(lines[0]["counts"]["users"], 2);
  EXPECT_EQ(lines[0]["counts"]["attendances"], 5);
  EXPECT_EQ(lines[0]["error"], "");
  EXPECT_TRUE(parse_iso8601(lines[0]["start"]).has_value());
  EXPECT_LE(*parse_iso8601(lines[0]["start"]), *parse_iso8601(lines[0]["end"]));
  EXPECT_EQ(lines[1]["outcome"], "failed");
  EXPECT_EQ(lines[1]["db"], "gone");
  EXPECT_EQ(lines[1]["archive"], "");
  EXPECT_FALSE(lines[1]["error"].get<std::string>().empty());
}

TEST(BackupCli, PrintsArchiveCountsAndTime) {
  TempDir tmp;
  add_sample_data(*Database::open(DataDir::open(tmp.path() / "data"), kDb));
  auto r = run_facecrowd("backup", "FACECROWD_DATA='" + (tmp.path() / "data").string() + "' FACECROWD_BACKUP_DIR='" +
                                       (tmp.path() / "b").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto archives = BackupCatalog(tmp.path() / "b").archives(kDb);
  ASSERT_EQ(archives.size(), 1u);
  EXPECT_NE(r.out.find(archives[0].path.string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("attendances"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << "no progress when stderr is not a terminal: " << r.err;

  auto bad = run_facecrowd("backup --keep-days -1", "FACECROWD_DATA='" + (tmp.path() / "data").string() + "'");
  EXPECT_EQ(bad.exit_code, int(ExitCode::kUsage)) << bad.err;
}

}  // namespace
}  // namespace facecrowd
