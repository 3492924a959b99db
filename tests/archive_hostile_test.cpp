// Hostile archives (issue 9, items 10 and 12-15): every damaged, crafted or lying backup is refused by
// restore, restore --dry-run and verify alike with exit 3 and a message naming the archive and what is
// wrong, never a crash; a good backup with a damaged manifest copy beside it is still restored. Each
// archive is built here from a real backup: cut short, bytes flipped, garbage appended, members rewritten.
#include <bson/bson.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include "backup/archive_manifest.h"
#include "backup/manifest.h"
#include "backup/restore.h"
#include "backup/verify.h"
#include "core/display_text.h"
#include "core/sha256.h"
#include "store/oplog_entry.h"
#include "restore_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

std::string read_bytes(const fs::path& p) { return read_text(p); }

std::string gzip(const std::string& raw) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, uLong(raw.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = uInt(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string gunzip(const std::string& gz) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = uInt(gz.size());
  std::string out;
  char buf[1 << 16];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  } while (rc == Z_OK);
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

// One BSON document {_id: <raw string bytes>, n: 1}, invalid UTF-8 and NUL allowed.
std::string bson_with_string_id(const std::string& id) {
  bson_t* b = bson_new();
  bson_append_utf8(b, "_id", 3, id.data(), int(id.size()));
  BSON_APPEND_INT32(b, "n", 1);
  std::string out(reinterpret_cast<const char*>(bson_get_data(b)), b->len);
  bson_destroy(b);
  return out;
}

// A 512-byte ustar header for a regular file `name` declaring `size` bytes (octal, as tar(1) writes it).
std::string tar_header(const std::string& name, uint64_t size) {
  std::string h(512, '\0');
  std::copy(name.begin(), name.end(), h.begin());
  auto put_octal = [&](size_t at, size_t width, uint64_t v) {
    std::string digits(width - 1, '0');
    for (size_t i = width - 1; i-- > 0 && v;) {
      digits[i] = char('0' + (v & 7));
      v >>= 3;
    }
    std::copy(digits.begin(), digits.end(), h.begin() + long(at));
  };
  put_octal(100, 8, 0644);
  put_octal(108, 8, 0);
  put_octal(116, 8, 0);
  put_octal(124, 12, size);
  put_octal(136, 12, 1704240000);
  h[156] = '0';
  std::string magic = "ustar";
  std::copy(magic.begin(), magic.end(), h.begin() + 257);
  h[263] = '0';
  h[264] = '0';
  std::fill(h.begin() + 148, h.begin() + 156, ' ');
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  put_octal(148, 7, sum);
  return h;
}

struct Hostile {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  fs::path archive;
  fs::path folder;  // the archive extracted, to rewrite members
  fs::path work = tmp.path() / "work";
  Hostile() {
    fill(data, 15);
    archive = backup(data, backups).archive;
    folder = extract(archive, tmp.path() / "extracted");
    fs::create_directories(work);
  }
  fs::path copy_named(const std::string& bytes) {
    fs::path p = work / archive.filename();
    write_text(p, bytes);
    return p;
  }
  // Rewrites `member` (relative to the top folder) and fixes its sha256/bytes (and count) in the manifest,
  // so that only the content is hostile; then repacks into work/<archive name>.
  fs::path with_member(const std::string& member, const std::string& content, int64_t documents = -2) {
    write_text(folder / member, content);
    auto m = nlohmann::json::parse(read_text(folder / "manifest.json"));
    for (auto& f : m["files"])
      if (f["path"] == member) {
        f["sha256"] = sha256_hex(content);
        f["bytes"] = content.size();
        if (documents != -2) f["documents"] = documents;
      }
    write_text(folder / "manifest.json", m.dump(2));
    return repacked();
  }
  fs::path with_manifest(const std::function<void(nlohmann::json&)>& edit) {
    auto m = nlohmann::json::parse(read_text(folder / "manifest.json"));
    edit(m);
    write_text(folder / "manifest.json", m.dump(2));
    return repacked();
  }
  fs::path repacked() {
    fs::path out = work / archive.filename();
    repack(folder, out);
    return out;
  }
  std::string dirs() const { return "--data '" + data.string() + "' --backup-dir '" + backups.string() + "' "; }
  CommandResult cli(const std::string& args) const { return run_facecrowd(dirs() + args); }

  VerifyReport verify(const fs::path& input) const {
    VerifyOptions o;
    o.backup_dir = backups;
    o.scratch_dir = tmp.path();
    return verify_backup(input.string(), o);
  }
  RestoreResult restore(const fs::path& input, bool dry_run) const {
    RestoreOptions o;
    o.backup_dir = backups;
    o.dry_run = dry_run;
    o.db = "restored";
    return restore_backup(data, input.string(), o);
  }

  // restore --dry-run, restore (into another db) and verify all refuse `input` with exit 3, through the
  // binary, and their messages contain every one of `parts`; the live database is untouched.
  void expect_refused_by_all(const fs::path& input, std::initializer_list<std::string> parts) const {
    auto before = folder_listing(data / "face-recognition");
    for (const std::string& cmd :
         {"restore --dry-run '" + input.string() + "'", "restore --db restored '" + input.string() + "'",
          "restore --drop '" + input.string() + "'", "verify '" + input.string() + "'"}) {
      auto r = cli(cmd);
      EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << cmd << "\n" << r.out << r.err;
      for (const auto& p : parts)
        EXPECT_NE((r.out + r.err).find(p), std::string::npos) << cmd << ": '" << p << "' not in:\n" << r.out << r.err;
    }
    EXPECT_EQ(folder_listing(data / "face-recognition"), before);
    EXPECT_FALSE(fs::exists(data / "restored"));
  }
};

// ---- item 10: crashes ----

TEST(ArchiveHostile, AnArchiveShortByOneToEightBytesIsRefusedNotCrashed) {
  Hostile h;
  std::string bytes = read_bytes(h.archive);
  for (size_t cut = 1; cut <= 8; ++cut) {
    fs::path p = h.copy_named(bytes.substr(0, bytes.size() - cut));
    expect_error([&] { h.restore(p, true); }, ExitCode::kBadInput, {p.string(), "truncated"});
    auto report = h.verify(p);
    EXPECT_FALSE(report.ok());
    ASSERT_FALSE(report.checks.empty());
    EXPECT_NE(report.checks.back().detail.find("truncated"), std::string::npos) << report.checks.back().detail;
    if (cut == 1 || cut == 8) h.expect_refused_by_all(p, {p.filename().string(), "truncated"});
  }
}

TEST(ArchiveHostile, AnArchiveStillBeingWrittenIsRefusedAtEveryLength) {
  Hostile h;
  std::string bytes = read_bytes(h.archive);
  for (size_t len = 0; len < bytes.size(); len += std::max<size_t>(1, bytes.size() / 37)) {
    fs::path p = h.copy_named(bytes.substr(0, len));
    expect_error([&] { h.restore(p, true); }, ExitCode::kBadInput, {p.string()});
  }
  h.expect_refused_by_all(h.copy_named(bytes.substr(0, bytes.size() * 2 / 3)), {"truncated"});
}

TEST(ArchiveHostile, FilesFoundByFuzzingAreRefused) {
  Hostile h;
  fs::path dir = fs::path(FACECROWD_SOURCE_DIR) / "tests" / "fixtures" / "hostile_archives";
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    fs::path p = h.copy_named(read_bytes(e.path()));
    expect_error([&] { h.restore(p, true); }, ExitCode::kBadInput, {p.string()});
    auto r = h.cli("verify '" + p.string() + "'");
    EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << e.path() << "\n" << r.out << r.err;
    ++n;
  }
  EXPECT_GT(n, 0);
}

// ---- item 13: bad archives that used to be accepted ----

TEST(ArchiveHostile, AFlippedGzipCrcIsRefused) {
  Hostile h;
  std::string bytes = read_bytes(h.archive);
  bytes[bytes.size() - 8] ^= 0x01;
  fs::path p = h.copy_named(bytes);
  h.expect_refused_by_all(p, {p.filename().string(), "CRC-32 mismatch"});
}

TEST(ArchiveHostile, AFlippedGzipLengthIsRefused) {
  Hostile h;
  std::string bytes = read_bytes(h.archive);
  bytes[bytes.size() - 3] ^= 0x10;
  fs::path p = h.copy_named(bytes);
  h.expect_refused_by_all(p, {p.filename().string(), "length mismatch"});
}

TEST(ArchiveHostile, GarbageAfterTheGzipStreamIsRefused) {
  Hostile h;
  fs::path p = h.copy_named(read_bytes(h.archive) + "garbage");
  h.expect_refused_by_all(p, {"7 bytes follow the end of the gzip stream"});
}

TEST(ArchiveHostile, TwoConcatenatedArchivesAreRefused) {
  Hostile h;
  std::string bytes = read_bytes(h.archive);
  fs::path p = h.copy_named(bytes + bytes);
  h.expect_refused_by_all(p, {"follow the end of the gzip stream", "two archives concatenated"});
}

TEST(ArchiveHostile, TarDataAfterTheEndMarkerIsRefused) {
  Hostile h;
  std::string tar = gunzip(read_bytes(h.archive));
  std::string extra = tar_header("backup_x/face-recognition/users.bson", 0);
  fs::path p = h.copy_named(gzip(tar + extra + std::string(1024, '\0')));
  h.expect_refused_by_all(p, {"after the tar end-of-archive marker"});
}

TEST(ArchiveHostile, AnIdWithInvalidUtf8IsRefused) {
  Hostile h;
  fs::path p = h.with_member("face-recognition/users.bson", bson_with_string_id("bad\xff\xfe"), 1);
  h.expect_refused_by_all(p, {"users.bson", "valid UTF-8"});
}

TEST(ArchiveHostile, AnIdWithANulByteIsRefused) {
  Hostile h;
  fs::path p = h.with_member("face-recognition/users.bson", bson_with_string_id(std::string("u\0x", 3)), 1);
  h.expect_refused_by_all(p, {"users.bson", "NUL"});
}

TEST(ArchiveHostile, AnOplogRangeDecadesAfterTheBackupIsRefused) {
  Hostile h;
  fs::path p = h.with_manifest([](nlohmann::json& m) {
    m["oplog"]["start"] = "4294967295:4294967295";
    m["oplog"]["end"] = "4294967295:4294967295";
  });
  h.expect_refused_by_all(p, {"4294967295:4294967295", "after the backup's created_at"});
}

TEST(ArchiveHostile, AFormatVersionBeyond32BitsIsNotReadAsOne) {
  Hostile h;
  fs::path p = h.with_manifest([](nlohmann::json& m) { m["format_version"] = 4294967297ull; });
  h.expect_refused_by_all(p, {"unknown archive format version 4294967297"});
  EXPECT_THROW(Manifest::parse(R"({"format": "facecrowd-backup", "format_version": 1.0})", "m"), Error);
}

TEST(ArchiveHostile, AFourGibMetadataMemberIsRefusedFromItsHeaderAlone) {
  Hostile h;
  // A tar header declaring 4 GiB, followed by only 1 KB: were it read, the archive would be "truncated".
  std::string tar = tar_header("backup_face-recognition_20240103_010000/face-recognition/users.metadata.json",
                               uint64_t(4) << 30) +
                    std::string(1024, '{');
  fs::path p = h.copy_named(gzip(tar));
  h.expect_refused_by_all(p, {"users.metadata.json", "4294967296 bytes", "refused unread"});
}

// ---- item 12: a huge manifest ----

TEST(ArchiveHostile, AManifestListing300000FilesIsRefusedByItsSizeBound) {
  Hostile h;
  fs::path p = h.with_manifest([](nlohmann::json& m) {
    for (int i = 0; i < 300000; ++i) {
      m["files"].push_back({{"path", "face-recognition/f" + std::to_string(i) + ".bson"},
                            {"sha256", std::string(64, 'a')}, {"bytes", 1}, {"documents", 1}});
      m["collections"].push_back("users");
    }
  });
  h.expect_refused_by_all(p, {"manifest.json", "larger than the 1048576"});
  // The copy beside an archive is bounded the same way: a huge one is passed over, not parsed.
  fs::copy_file(h.folder / "manifest.json", fs::path(h.archive.string() + ".manifest.json"),
                fs::copy_options::overwrite_existing);
  auto r = h.cli("restore --dry-run latest");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("warning: the manifest copy"), std::string::npos) << r.out;
}

TEST(ArchiveHostile, ManifestEntryCountsAreBoundedAndNamesChecked) {
  auto base = nlohmann::json::parse(R"({"format": "facecrowd-backup", "format_version": 1,
      "created_at": "2024-01-03T01:00:00.000Z", "db": "face-recognition", "collections": ["users"],
      "oplog": {"start": "1704240000:1", "end": "1704240000:1", "entries": 0},
      "files": [{"path": "face-recognition/users.bson", "sha256": "%", "bytes": 5, "documents": 0}]})"
                                        );
  base["files"][0]["sha256"] = std::string(64, 'a');
  EXPECT_NO_THROW(Manifest::from_json(base, "m"));
  auto expect_bad = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& part) {
    auto j = base;
    edit(j);
    expect_error([&] { Manifest::from_json(j, "m"); }, ExitCode::kBadInput, {part});
  };
  expect_bad([](auto& j) { for (int i = 0; i < 300; ++i) j["files"].push_back(j["files"][0]); }, "at most 256");
  expect_bad([](auto& j) { for (int i = 0; i < 70; ++i) j["collections"].push_back("users"); }, "at most 64");
  expect_bad([](auto& j) { j["collections"].push_back("users"); }, "twice");
  expect_bad([](auto& j) { j["collections"].push_back("nosuch"); }, "not a collection");
  expect_bad([](auto& j) { j["files"].push_back(j["files"][0]); }, "twice");
  expect_bad([](auto& j) { j["files"][0]["path"] = "../users.bson"; }, "unsafe");
  expect_bad([](auto& j) { j["files"][0]["bytes"] = -1; }, "bytes");
  expect_bad([](auto& j) { j["files"][0]["documents"] = -1; }, "no document count");
  expect_bad([](auto& j) { j["files"][0].erase("documents"); }, "no document count");
  expect_bad([](auto& j) { j["oplog"]["entries"] = 1.5; }, "entries");
  expect_bad([](auto& j) { j["oplog"]["start"] = "1704240001:1"; }, "runs backwards");
  expect_bad([](auto& j) { j["created_at"] = "yesterday"; }, "created_at");
}

// A hostile manifest's strings reach the operator's terminal in refusals: an ESC sequence in a field would
// recolour or rewrite the screen ("\x1b[2J" clears it), a newline would forge a second line. Every value the
// manifest's checks quote is shown escaped (\x1b), never raw.
TEST(ArchiveHostile, ControlCharactersInAHostileManifestAreShownEscapedInItsRefusals) {
  auto base = nlohmann::json::parse(R"({"format": "facecrowd-backup", "format_version": 1,
      "created_at": "2024-01-03T01:00:00.000Z", "db": "face-recognition", "collections": ["users"],
      "oplog": {"start": "1704240000:1", "end": "1704240000:1", "entries": 0},
      "files": [{"path": "face-recognition/users.bson", "sha256": "%", "bytes": 5, "documents": 0}]})");
  base["files"][0]["sha256"] = std::string(64, 'a');
  const std::string esc = "\x1b[2J\x1b]0;owned\x07\nerror: forged";
  auto expect_escaped = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& part) {
    auto j = base;
    edit(j);
    try {
      Manifest::from_json(j, "m");
      ADD_FAILURE() << "accepted: " << part;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << message;
      EXPECT_NE(message.find(part), std::string::npos) << message;
      EXPECT_EQ(message.find('\x1b'), std::string::npos) << "raw ESC in: " << for_terminal(message);
      EXPECT_EQ(message.find('\n'), std::string::npos) << "raw newline in: " << for_terminal(message);
      EXPECT_EQ(message.find('\x07'), std::string::npos) << "raw BEL in: " << for_terminal(message);
      EXPECT_NE(message.find("\\x1b[2J"), std::string::npos) << "not shown escaped: " << for_terminal(message);
    }
  };
  expect_escaped([&](auto& j) { j["created_at"] = "2024" + esc; }, "created_at");
  expect_escaped([&](auto& j) { j["db"] = "face" + esc; }, "db: invalid database name");
  expect_escaped([&](auto& j) { j["collections"].push_back("users" + esc); }, "not a collection");
  expect_escaped([&](auto& j) { j["files"][0]["path"] = "face-recognition/" + esc + "/../x.bson"; }, "unsafe member name");
  expect_escaped([&](auto& j) { j["files"][0]["path"] = "face-recognition/" + esc + ".bson"; j["files"][0]["sha256"] = "x"; },
                 "malformed sha256");
  expect_escaped([&](auto& j) { j["files"][0]["path"] = "face-recognition/" + esc + ".bson"; j["files"][0].erase("documents"); },
                 "no document count");
  expect_escaped([&](auto& j) { j["files"][0]["path"] = "face-recognition/" + esc + ".json"; }, "not a .bson file");
  expect_escaped([&](auto& j) { j["files"][0]["path"] = "face-recognition/" + esc + ".bson"; j["files"].push_back(j["files"][0]); },
                 "twice");

  // Through the binary, as an operator sees it: restore and verify of such an archive.
  Hostile h;
  fs::path p = h.with_manifest([&](nlohmann::json& m) { m["created_at"] = "2024" + esc; });
  for (const std::string& cmd : {"restore --dry-run '" + p.string() + "'", "verify '" + p.string() + "'"}) {
    auto r = h.cli(cmd);
    EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << cmd << "\n" << for_terminal(r.out + r.err);
    EXPECT_EQ((r.out + r.err).find('\x1b'), std::string::npos) << cmd << ": raw ESC in: " << for_terminal(r.out + r.err);
    EXPECT_NE((r.out + r.err).find("\\x1b[2J"), std::string::npos) << cmd << ": " << for_terminal(r.out + r.err);
  }
}

// ---- item 15: restore and verify agree ----

TEST(ArchiveHostile, DuplicateIdsAreRefusedAlikeByRestoreDryRunAndVerify) {
  Hostile h;
  std::string users = read_bytes(h.folder / "face-recognition" / "users.bson");
  int32_t first_len;
  std::memcpy(&first_len, users.data(), 4);
  fs::path p = h.with_member("face-recognition/users.bson", users + users.substr(0, size_t(first_len)), 16);
  h.expect_refused_by_all(p, {"users.bson", "same _id"});
}

TEST(ArchiveHostile, DuplicateUsernamesAreRefusedAlikeByRestoreDryRunAndVerify) {
  // Distinct _ids, one username: only the unique index on users.username tells; the real restore found
  // it when building that index, while --dry-run and verify said the backup was fine.
  Hostile h;
  std::string users = read_bytes(h.folder / "face-recognition" / "users.bson");
  auto twin = Document::from_json({{"_id", "u-twin"}, {"username", "user3"}, {"email", "twin@example.org"}});
  fs::path p = h.with_member("face-recognition/users.bson", users + std::string(twin.bytes()), 16);
  h.expect_refused_by_all(p, {"users.bson", "same username"});
}

TEST(ArchiveHostile, ANumberAndItsDecimalTextCollideAsUsernamesAsTheyWouldInTheIndex) {
  Hostile h;
  std::string users = read_bytes(h.folder / "face-recognition" / "users.bson");
  auto number = Document::from_json({{"_id", "u-n"}, {"username", 42}});
  auto text = Document::from_json({{"_id", "u-t"}, {"username", "42"}});
  fs::path p = h.with_member("face-recognition/users.bson", users + std::string(number.bytes()) + std::string(text.bytes()), 17);
  h.expect_refused_by_all(p, {"users.bson", "same username"});
}

TEST(ArchiveHostile, AManifestWithoutADocumentCountIsRefusedAlikeByRestoreAndVerify) {
  Hostile h;
  fs::path p = h.with_manifest([](nlohmann::json& m) {
    for (auto& f : m["files"])
      if (f["path"] == "face-recognition/users.bson") f["documents"] = -1;
  });
  h.expect_refused_by_all(p, {"users.bson", "no document count"});
}

TEST(ArchiveHostile, AManifestThatUnderCountsDocumentsIsRefusedAlikeByRestoreAndVerify) {
  Hostile h;
  fs::path p = h.with_manifest([](nlohmann::json& m) {
    for (auto& f : m["files"])
      if (f["path"] == "face-recognition/attendances.bson") f["documents"] = f["documents"].get<int64_t>() - 3;
  });
  h.expect_refused_by_all(p, {"attendances.bson", "holds 30 documents, the manifest says 27"});
}

TEST(ArchiveHostile, OplogEntriesOutsideTheManifestRangeAreRefused) {
  Hostile h;
  Document note = Document::from_json({{"msg", "from the future"}});
  auto entry = encode_oplog_entry({2000000000, 1}, 'n', "face-recognition.$cmd", note.get());
  std::string bytes(entry.bytes());
  fs::path p = h.with_member("oplog.bson", bytes, 1);
  h.with_manifest([](nlohmann::json& m) { m["oplog"]["entries"] = 1; });
  h.expect_refused_by_all(p, {"oplog.bson holds entries 2000000000:1"});
}

// ---- item 14: a damaged manifest copy does not refuse a good backup ----

TEST(ArchiveHostile, ADamagedManifestCopyBesideTheArchiveIsPassedOverWithAWarning) {
  Hostile h;
  fs::path sidecar = h.archive.string() + ".manifest.json";
  std::string good = read_text(sidecar);
  auto real = nlohmann::json::parse(good);
  auto start = parse_oplog_timestamp(real["oplog"]["start"].get<std::string>());
  ASSERT_TRUE(start);
  std::string until = std::to_string(start->secs) + ":" + std::to_string(start->inc + 1);  // inside the window
  auto edited = [&](const std::function<void(nlohmann::json&)>& edit) {
    auto j = real;
    edit(j);
    return j.dump(2);
  };
  std::vector<std::pair<std::string, std::string>> damages = {
      {"garbage", "\x01\x02not json"},
      {"cut short", good.substr(0, good.size() / 2)},
      {"empty", ""},
      {"another database", edited([](auto& j) { j["db"] = "face-recognitiom"; })},
      {"a later oplog range", edited([&](auto& j) {
         OplogTimestamp later{start->secs + 3600, 1};
         j["oplog"]["start"] = later.to_string();
         j["oplog"]["end"] = later.to_string();
       })},
      {"a collection missing", edited([](auto& j) { j["collections"] = {"attendances"}; })},
  };
  for (const auto& [what, text] : damages) {
    SCOPED_TRACE(what);
    write_text(sidecar, text);
    auto v = h.cli("verify latest");
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    EXPECT_NE(v.out.find("warning: the manifest copy"), std::string::npos) << v.out;
    auto r = h.cli("restore latest --db restored-" + std::to_string(&what - &damages[0].first) + " --collection users");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto pit = h.cli("restore latest --dry-run --until " + until);
    EXPECT_EQ(pit.exit_code, 0) << pit.out << pit.err;
  }
  fs::remove(sidecar);
  fs::create_directory(sidecar);
  auto v = h.cli("verify latest");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("not a regular file"), std::string::npos) << v.out;
  auto pit = h.cli("restore latest --dry-run --until " + until);
  EXPECT_EQ(pit.exit_code, 0) << pit.out << pit.err;
}

TEST(ArchiveHostile, TheManifestInsideAnArchiveIsReadWithoutRestoring) {
  Hostile h;
  Manifest m = read_archive_manifest(h.archive);
  EXPECT_EQ(m.to_json(), Manifest::parse(read_text(h.folder / "manifest.json"), "x").to_json());
  std::string bytes = read_bytes(h.archive);
  fs::path cut = h.copy_named(bytes.substr(0, bytes.size() - 4));
  expect_error([&] { read_archive_manifest(cut); }, ExitCode::kBadInput, {"truncated"});
}

}  // namespace
}  // namespace facecrowd
