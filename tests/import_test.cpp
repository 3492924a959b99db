// `facecrowd import` (issue 14): a plain mongodump of the old Node.js + MongoDB system, written by an
// independent BSON writer (tests/fixtures/make_mongodump.py: Debian's python3-bson and python3-bcrypt), comes
// into facecrowd through the real binary; and the other direction: facecrowd's own archives decode with
// python3-bson, with the manifest's counts.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "app/faces/gallery_loader.h"
#include "app/import/import_mapping.h"
#include "app/service.h"
#include "app/users/users.h"
#include "face_test_support.h"
#include "core/error.h"
#include "store/file_store.h"
#include "store/store_damage.h"
#include "test_support.h"

namespace facecrowd {
namespace {

const fs::path kFixture = fs::path(FACECROWD_SOURCE_DIR) / "tests" / "fixtures" / "make_mongodump.py";
const char* const kPython = "/usr/bin/python3";  // Debian's, where python3-bson and python3-bcrypt live

std::string python_skip_reason() {
  auto r = run_shell(std::string(kPython) + " -c 'import bson, bcrypt' 2>&1");
  return r.exit_code == 0 ? "" : "python3-bson/python3-bcrypt missing (scripts/install-deps.sh): " + r.out;
}

// Descriptors of obama.jpg, obama1.jpg and biden.jpg as facecrowd's model computes them (face-api.js runs the
// same dlib ResNet): enrolled once into a scratch data directory, written as {"file": [128 floats]}.
const fs::path& descriptors_file() {
  static TempDir dir;
  static fs::path file;
  if (!file.empty()) return file;
  FaceWorld w;
  for (const auto& [person, image] : std::vector<std::pair<std::string, std::string>>{
           {"obama", "obama.jpg"}, {"obama", "obama1.jpg"}, {"biden", "biden.jpg"}}) {
    auto r = w.cli("enroll --name '" + image + "' --force " + identity(person, image));
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  nlohmann::json out = nlohmann::json::object();
  auto db = Database::open(DataDir::open(w.data()), std::string(kDefaultDatabase));
  auto tx = db->read();
  tx.find("faceprofiles", Query{}, [&](const Document& d) {
    auto embeddings = profile_embeddings(d);
    if (!embeddings.empty() && embeddings[0].vector) out[d.to_json()["name"].get<std::string>()] = *embeddings[0].vector;
    return true;
  });
  file = dir.path() / "descriptors.json";
  write_text(file, out.dump());
  return file;
}

struct Dump {
  fs::path folder;   // the --out folder
  fs::path archive;  // a tar.gz of it, as the old runbook made
};

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    if (auto why = python_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  }

  // Runs the fixture writer with `flags`; packs the folder like the old runbook (tar -czf).
  Dump make_dump(const std::string& flags, const std::string& name = "backup_face-recognition_20240103_010000") {
    Dump d;
    d.folder = world.dir.path() / name;
    auto r = run_shell(std::string(kPython) + " " + q(kFixture) + " " + q(d.folder) + " --faces " + q(faces_dir()) +
                       " --descriptors " + q(descriptors_file()) + " " + flags + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    d.archive = world.dir.path() / (name + ".tar.gz");
    auto t = run_shell("tar -czf " + q(d.archive) + " -C " + q(world.dir.path()) + " " + name + " 2>&1");
    EXPECT_EQ(t.exit_code, 0) << t.out;
    return d;
  }
  nlohmann::json import_json(const std::string& args, int expected_exit = 0) {
    auto r = world.cli("import " + args + " --json");
    EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
    if (r.out.empty()) return {};
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  const nlohmann::json* collection(const nlohmann::json& report, const std::string& source) {
    for (const auto& c : report["collections"])
      if (c["source"] == source) return &c;
    return nullptr;
  }
  // A refused import leaves no data directory behind (the test's data directory did not exist before).
  bool data_dir_untouched() const {
    std::error_code ec;
    return !fs::exists(world.data(), ec);
  }

  FaceWorld world;
};

TEST_F(ImportTest, AFullImportBringsUsersPeopleAttendanceCrowdCountsAuditAndImagesAcross) {
  Dump d = make_dump("--attendances 5 --crowdcounts 4");
  auto r = import_json(q(d.archive));
  EXPECT_EQ(r["exitCode"], 0) << r.dump(2);
  EXPECT_EQ(world.count("users"), 2u);
  EXPECT_EQ(world.count("faceprofiles"), 2u);
  EXPECT_EQ(world.count("attendances"), 5u);
  EXPECT_EQ(world.count("crowdcounts"), 4u);
  EXPECT_EQ(world.count("auditlogs"), 3u);  // two old entries and the import's own
  EXPECT_EQ(world.count("fs.files"), 3u);
  EXPECT_EQ(r["files"]["md5Checked"], 3);
  EXPECT_EQ(r["embeddings"]["decision"], "descriptors-agree") << r.dump(2);
  EXPECT_GE(r["embeddings"]["sampleChecked"].get<int>(), 1);
  EXPECT_LT(r["embeddings"]["sampleMaxDistance"].get<double>(), 0.1);

  // Ids are kept, so references still hold; unmapped fields are under legacy.
  for (const auto& p : world.documents("faceprofiles")) {
    if (p["name"] != "Barack Obama") continue;
    EXPECT_EQ(p["_id"]["$oid"], "65a1b2c3d4e5f6000000000b");
    EXPECT_EQ(p["externalId"], "S-0001");
    EXPECT_EQ(p["legacy"]["department"], "history");
    EXPECT_EQ(p["legacy"]["__v"], 2);
    ASSERT_EQ(p["embeddings"].size(), 2u);
    EXPECT_EQ(p["facialImageIds"].size(), 2u);
    EXPECT_EQ(p["embeddings"][0]["sourceFileId"], p["facialImageIds"][0]);
  }
  for (const auto& a : world.documents("attendances")) {
    EXPECT_TRUE(a["personName"] == "Barack Obama" || a["personName"] == "Joe Biden") << a.dump();
    EXPECT_EQ(a["legacy"]["status"], "present");
  }
  for (const auto& u : world.documents("users")) {
    EXPECT_EQ(u["kind"], "user");
    EXPECT_EQ(u["passwordHash"].get<std::string>().substr(0, 4), "$2b$");
    if (u["username"] == "teacher") {
      EXPECT_EQ(u["role"], "viewer");  // "user" through the mapping's values
    }
  }
  bool import_entry = false, old_entry = false;
  for (const auto& e : world.documents("auditlogs")) {
    if (e["action"] == "import") {
      import_entry = true;
      EXPECT_EQ(e["details"]["source"], d.archive.string());
      EXPECT_EQ(e["details"]["mapping"], "default");
    }
    if (e["action"] == "LOGIN") {
      old_entry = true;
      EXPECT_EQ(e["actor"], "user:admin");  // the old user id resolved to the imported user
      EXPECT_EQ(e["details"]["legacy"]["details"]["browser"], "firefox");
    }
  }
  EXPECT_TRUE(import_entry);
  EXPECT_TRUE(old_entry);
  // The audit chain holds the imported entries, and the scrub finds nothing wrong.
  EXPECT_EQ(world.cli("audit verify").exit_code, 0);
  auto check = world.cli("check");
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  auto crowd = world.cli_json("crowd list --location main-gate");
  EXPECT_EQ(crowd.size(), 2u) << crowd.dump();
}

TEST_F(ImportTest, TheGzipVariantImportsTheSameFromTheFolderAndFromStandardInput) {
  Dump d = make_dump("--gzip");
  auto r = import_json(q(d.folder));
  EXPECT_EQ(r["exitCode"], 0) << r.dump(2);
  EXPECT_EQ(world.count("faceprofiles"), 2u);
  EXPECT_EQ(world.count("attendances"), 3u);
  EXPECT_EQ(world.count("fs.files"), 3u);

  FaceWorld other;
  // In a subshell: run_shell sends </dev/null to the last command of the line.
  auto s = run_shell("(cat " + q(d.archive) + " | FACECROWD_DATA=" + q(other.data()) + " FACECROWD_MODELS=" +
                     q(face_models_dir()) + " " + FACECROWD_BINARY + " import - --json)");
  ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  EXPECT_EQ(nlohmann::json::parse(s.out)["shape"], "stdin");
  EXPECT_EQ(other.count("faceprofiles"), 2u);
  EXPECT_EQ(other.count("crowdcounts"), 2u);
}

TEST_F(ImportTest, ADryRunReportsPerCollectionAndWritesNothing) {
  Dump d = make_dump("--with-unknown --with-dangling");
  auto r = world.cli("import " + q(d.archive) + " --dry-run");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // a warning: documents were refused
  EXPECT_NE(r.out.find("dry run: would import"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kept under legacy: __v (2) department (2)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("refers to profile 65a1b2c3d4e5f60000000063, which is not among the imported profiles"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sessions"), std::string::npos);
  EXPECT_NE(r.out.find("nothing was written"), std::string::npos);
  EXPECT_FALSE(fs::exists(world.data())) << "a dry run created the data directory";
  auto j = import_json(q(d.archive) + " --dry-run", 1);
  const auto* att = collection(j, "attendances");
  ASSERT_NE(att, nullptr);
  EXPECT_EQ((*att)["imported"], 3);
  EXPECT_EQ((*att)["refused"], 1);
  EXPECT_FALSE(fs::exists(world.data()));
}

TEST_F(ImportTest, AnImportedPersonIsRecognisedInAGroupPhotoFromTheImportedDescriptors) {
  Dump d = make_dump("");
  auto r = import_json(q(d.archive));
  ASSERT_EQ(r["embeddings"]["embeddingsImported"], 3) << r.dump(2);
  ASSERT_EQ(r["embeddings"]["embeddingsComputed"], 0);
  auto seen = world.cli_json("recognize " + group("two_people.jpg") + " --session imported-check");
  std::set<std::string> names;
  for (const auto& f : seen["recognised"]) names.insert(f["personName"]);
  EXPECT_EQ(names, (std::set<std::string>{"Barack Obama", "Joe Biden"})) << seen.dump(2);
}

TEST_F(ImportTest, DescriptorsOfAnotherModelAreReplacedByEmbeddingsOfTheStoredImages) {
  Dump d = make_dump("--perturb");
  auto r = import_json(q(d.archive), 1);  // a warning: the descriptors were not used
  EXPECT_EQ(r["embeddings"]["decision"], "re-embedded") << r.dump(2);
  EXPECT_GE(r["embeddings"]["sampleMaxDistance"].get<double>(), 0.1);
  EXPECT_EQ(r["embeddings"]["profilesReembedded"], 2);
  EXPECT_EQ(r["embeddings"]["embeddingsComputed"], 3);
  EXPECT_TRUE(r["flaggedProfiles"].empty());
  auto seen = world.cli_json("recognize " + group("two_people.jpg") + " --session s");
  EXPECT_EQ(seen["recognised"].size(), 2u) << seen.dump(2);
}

TEST_F(ImportTest, AProfileWithNeitherDescriptorNorImageIsImportedAndFlagged) {
  Dump d = make_dump("--with-empty-profile");
  auto r = import_json(q(d.archive), 1);
  ASSERT_EQ(r["flaggedProfiles"].size(), 1u) << r.dump(2);
  EXPECT_EQ(r["flaggedProfiles"][0]["name"], "Nobody Pictured");
  EXPECT_EQ(world.count("faceprofiles"), 3u);
  for (const auto& p : world.documents("faceprofiles"))
    if (p["name"] == "Nobody Pictured") {
      EXPECT_FALSE(p["importNotes"].empty());
    }
}

TEST_F(ImportTest, AnImportedUserLogsInWithTheOldPasswordWhichIsThenUpgradedToArgon2id) {
  Dump d = make_dump("");
  import_json(q(d.archive));
  ServiceOptions options;
  options.data_root = world.data();
  options.models_dir = face_models_dir();
  Service service(options);
  EXPECT_FALSE(service.login("admin", "wrong password!!", "10.0.0.1").ok);
  auto ok = service.login("admin", "old admin password", "10.0.0.1");
  EXPECT_TRUE(ok.ok);
  std::string hash;
  for (const auto& u : world.documents("users"))
    if (u["username"] == "admin") hash = u["passwordHash"];
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_TRUE(service.login("admin", "old admin password", "10.0.0.1").ok);  // and again, now with argon2id
  bool upgraded = false;
  for (const auto& e : world.documents("auditlogs")) upgraded |= e["action"] == "users.password-upgrade";
  EXPECT_TRUE(upgraded);
}

TEST_F(ImportTest, ATruncatedBsonIsRefusedWithExit3AndNothingWritten) {
  Dump d = make_dump("--truncate attendances");
  auto r = world.cli("import " + q(d.archive));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("attendances.bson: truncated"), std::string::npos) << r.err;
  EXPECT_TRUE(data_dir_untouched());
}

TEST_F(ImportTest, ADocumentOverSixteenMegabytesIsRefusedWithExit3) {
  Dump d = make_dump("--big-document");
  auto r = world.cli("import " + q(d.folder));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("over MongoDB's limit of 16 MiB"), std::string::npos) << r.err;
  EXPECT_TRUE(data_dir_untouched());
}

TEST_F(ImportTest, AnUnknownCollectionIsRefusedAndCountedWhileTheRestIsImported) {
  Dump d = make_dump("--with-unknown");
  auto r = import_json(q(d.archive), 1);
  const auto* s = collection(r, "sessions");
  ASSERT_NE(s, nullptr) << r.dump(2);
  EXPECT_EQ((*s)["refused"], 2);
  EXPECT_TRUE((*s)["as"].is_null());
  EXPECT_NE((*s)["refusals"].dump().find("does not map collection 'sessions'"), std::string::npos);
  EXPECT_EQ(world.count("faceprofiles"), 2u);
}

TEST_F(ImportTest, ASecondDocumentWithTheSameIdIsRefusedAndCountedNotAFailedImport) {
  Dump d = make_dump("--duplicate-id");
  auto r = import_json(q(d.archive), 1);
  const auto* att = collection(r, "attendances");
  ASSERT_NE(att, nullptr) << r.dump(2);
  EXPECT_EQ((*att)["imported"], 3);
  EXPECT_EQ((*att)["refused"], 1);
  EXPECT_EQ((*att)["refusals"]["a second document with this _id"], 1);
  EXPECT_EQ(world.count("attendances"), 3u);
}

TEST_F(ImportTest, AMappingNamingAFieldNoDocumentHasIsAClearError) {
  Dump d = make_dump("");
  auto mapping = nlohmann::json::parse(world.cli("import --print-mapping").out);
  mapping["collections"]["users"]["fields"]["username"]["from"] = {"user_name"};
  fs::path file = world.dir.path() / "mapping.json";
  write_text(file, mapping.dump(2));
  auto r = world.cli("import " + q(d.archive) + " --mapping " + q(file));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("collection 'users', field 'username' is taken from 'user_name', which no document of users"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("its documents have: __v, _id, createdAt, email"), std::string::npos) << r.err;
  EXPECT_TRUE(data_dir_untouched());
}

TEST_F(ImportTest, ADumpOfAnotherDatabaseNameIsRefusedUnlessNamedWithSourceDb) {
  Dump d = make_dump("--db attendance-app");
  auto r = world.cli("import " + q(d.archive));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("is a dump of database 'attendance-app', not 'face-recognition'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--source-db attendance-app"), std::string::npos) << r.err;
  EXPECT_TRUE(data_dir_untouched());
  auto ok = import_json(q(d.archive) + " --source-db attendance-app");
  EXPECT_EQ(ok["sourceDb"], "attendance-app");
  EXPECT_EQ(world.count("faceprofiles"), 2u);
}

TEST_F(ImportTest, ADataDirectoryThatHoldsDataIsRefusedWithExit5) {
  Dump d = make_dump("");
  import_json(q(d.archive));
  auto before = world.count("attendances");
  auto r = world.cli("import " + q(d.archive));
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("import only into a new or empty data directory"), std::string::npos) << r.err;
  EXPECT_EQ(world.count("attendances"), before);
  // A folder facecrowd did not make is not scribbled over either (exit 8), and an empty one is used.
  fs::path foreign = world.dir.path() / "foreign";
  fs::create_directories(foreign);
  write_text(foreign / "notes.txt", "someone else's");
  auto f = run_facecrowd("import " + q(d.archive), "FACECROWD_DATA=" + q(foreign) + " FACECROWD_MODELS=" + q(face_models_dir()));
  EXPECT_EQ(f.exit_code, 8) << f.err;
  EXPECT_FALSE(fs::exists(foreign / "face-recognition"));
  fs::create_directories(world.dir.path() / "empty");
  auto e = run_facecrowd("import " + q(d.archive), "FACECROWD_DATA=" + q(world.dir.path() / "empty") +
                                                       " FACECROWD_MODELS=" + q(face_models_dir()));
  EXPECT_EQ(e.exit_code, 0) << e.err;
}

std::vector<std::string> generation_files(const fs::path& db_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(db_dir, ec)) {
    std::string name = e.path().filename();
    if (name.rfind("gen-", 0) == 0 && name.size() > 7 && name.substr(name.size() - 7) == ".sqlite") out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(ImportTest, AFirstImportKilledWhileBuildingIsNotTakenForDamageByTheRerunWhichRemovesWhatItLeftAndSaysSo) {
  Dump d = make_dump("--attendances 3000 --crowdcounts 500");
  const fs::path db_dir = world.data() / "face-recognition";
  // Start the import, freeze it as soon as its first generation file appears (no CURRENT yet), kill it there.
  pid_t child = ::fork();
  if (child == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::setenv("FACECROWD_MODELS", face_models_dir().c_str(), 1);
    ::execl(FACECROWD_BINARY, FACECROWD_BINARY, "--data", world.data().c_str(), "import", d.archive.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool building = false;
  for (int i = 0; i < 600000 && !building; ++i) {
    building = !generation_files(db_dir).empty();
    if (!building) {
      ASSERT_EQ(::waitpid(child, nullptr, WNOHANG), 0) << "the import exited before it was seen building";
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  ::kill(child, SIGSTOP);
  ASSERT_TRUE(building) << "the import never started building";
  ASSERT_FALSE(fs::exists(db_dir / "CURRENT")) << "the import swapped before it could be stopped; make the dump larger";
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_EQ(generation_files(db_dir), std::vector<std::string>{"gen-000001.sqlite"});

  auto rerun = world.cli("import " + q(d.archive));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  EXPECT_EQ(rerun.out.find("damaged"), std::string::npos) << rerun.out;
  EXPECT_NE(rerun.out.find("removed gen-000001.sqlite, the unfinished generation of an earlier import or restore that was killed"),
            std::string::npos) << rerun.out;
  EXPECT_FALSE(fs::exists(world.data() / "damaged")) << "the leftover of a killed import was kept as if it were damage";
  EXPECT_FALSE(fs::exists(db_dir / "BUILDING")) << "the dead claim was left behind";
  EXPECT_EQ(generation_files(db_dir), std::vector<std::string>{"gen-000002.sqlite"});
  EXPECT_EQ(world.count("attendances"), 3000u);
  EXPECT_EQ(world.count("crowdcounts"), 500u);
  EXPECT_EQ(world.cli("check").exit_code, 0);
}

TEST_F(ImportTest, ALostCurrentBesideAGenerationIsStillDamageForImportEvenWithADeadClaimNamingAnotherGeneration) {
  Dump d = make_dump("");
  DataDir::open(world.data());
  const fs::path db_dir = world.data() / "face-recognition";
  fs::create_directories(db_dir);
  write_text(db_dir / "gen-000001.sqlite", "a live generation whose CURRENT was lost");
  write_text(db_dir / "BUILDING", "gen-000002.sqlite\n");  // a killed build's claim: no one holds it
  write_text(db_dir / "gen-000002.sqlite", "half built");
  auto r = world.cli("import " + q(d.archive));
  EXPECT_EQ(r.exit_code, int(kExitDamaged)) << r.out << r.err;
  EXPECT_EQ(generation_files(db_dir), (std::vector<std::string>{"gen-000001.sqlite", "gen-000002.sqlite"}));
  EXPECT_FALSE(fs::exists(db_dir / "CURRENT"));
}

TEST_F(ImportTest, TheSingleFileArchiveFormatPlainOrGzippedImportsLikeTheFolder) {
  make_dump("");  // the descriptors and the folder, for the writer's arguments
  fs::path plain = world.dir.path() / "face-recognition.archive";
  fs::path gz = world.dir.path() / "face-recognition.archive.gz";
  for (const auto& [file, flag] : std::vector<std::pair<fs::path, std::string>>{{plain, ""}, {gz, " --gzip"}}) {
    auto w = run_shell(std::string(kPython) + " " + q(kFixture) + " " + q(world.dir.path() / "unused") + " --faces " +
                       q(faces_dir()) + " --descriptors " + q(descriptors_file()) + " --archive-file " + q(file) + flag +
                       " --attendances 5 2>&1");
    ASSERT_EQ(w.exit_code, 0) << w.out;
  }
  auto r = import_json(q(plain));
  EXPECT_EQ(r["exitCode"], 0) << r.dump(2);
  EXPECT_EQ(r["shape"], "archive (mongodump --archive)");
  EXPECT_EQ(world.count("attendances"), 5u);
  EXPECT_EQ(world.count("faceprofiles"), 2u);
  EXPECT_EQ(world.count("fs.files"), 3u);
  EXPECT_EQ(r["embeddings"]["decision"], "descriptors-agree");

  FaceWorld other;  // the gzipped one, on standard input (mongodump --archive --gzip | facecrowd import -)
  auto s = run_shell("(cat " + q(gz) + " | FACECROWD_DATA=" + q(other.data()) + " FACECROWD_MODELS=" +
                     q(face_models_dir()) + " " + FACECROWD_BINARY + " import - --json)");
  ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  EXPECT_EQ(nlohmann::json::parse(s.out)["shape"], "stdin (mongodump --archive --gzip)");
  EXPECT_EQ(other.count("attendances"), 5u);
  EXPECT_EQ(other.count("crowdcounts"), 2u);
}

TEST_F(ImportTest, ATruncatedArchiveOrOneWhoseChecksumDiffersIsRefusedWithExit3) {
  make_dump("");
  fs::path good = world.dir.path() / "good.archive";
  fs::path bad_crc = world.dir.path() / "bad-crc.archive";
  for (const auto& [file, flag] : std::vector<std::pair<fs::path, std::string>>{{good, ""}, {bad_crc, " --bad-crc attendances"}}) {
    auto w = run_shell(std::string(kPython) + " " + q(kFixture) + " " + q(world.dir.path() / "unused") + " --faces " +
                       q(faces_dir()) + " --descriptors " + q(descriptors_file()) + " --archive-file " + q(file) + flag + " 2>&1");
    ASSERT_EQ(w.exit_code, 0) << w.out;
  }
  auto r = world.cli("import " + q(bad_crc));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("do not match the archive's CRC-64"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("attendances"), std::string::npos) << r.err;
  fs::path cut = world.dir.path() / "cut.archive";
  auto t = run_shell("(head -c " + std::to_string(fs::file_size(good) - 30) + " " + q(good) + " > " + q(cut) + ")");
  ASSERT_EQ(t.exit_code, 0);
  auto r2 = world.cli("import " + q(cut));
  EXPECT_EQ(r2.exit_code, 3) << r2.err;
  EXPECT_NE(r2.err.find("truncated"), std::string::npos) << r2.err;
  EXPECT_TRUE(data_dir_untouched());
}

// The other direction: facecrowd's own archive, read by an independent BSON reader.
TEST(ArchiveIndependentReader, EveryBsonOfAFacecrowdArchiveDecodesWithPython3BsonWithTheManifestsCounts) {
  if (auto why = python_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir tmp;
  std::string env = "FACECROWD_DATA=" + q(tmp.path() / "data") + " FACECROWD_BACKUP_DIR=" + q(tmp.path() / "backup");
  auto demo = run_facecrowd("demo-data --attendances 300 --auditlogs 50", env);
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  auto backup = run_facecrowd("backup", env);
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  fs::path archive;
  for (const auto& e : fs::directory_iterator(tmp.path() / "backup"))
    if (e.path().string().ends_with(".tar.gz")) archive = e.path();
  ASSERT_FALSE(archive.empty());
  auto r = run_shell(std::string(kPython) + " " + q(fs::path(FACECROWD_SOURCE_DIR) / "tests" / "fixtures" / "decode_archive.py") +
                     " " + q(archive));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["manifest"].empty());
  EXPECT_EQ(j["decoded"], j["manifest"]) << r.out;
  EXPECT_EQ(j["decoded"]["face-recognition/attendances.bson"], 300);
}

}  // namespace
}  // namespace facecrowd

namespace facecrowd {
namespace {

// Mapping files an operator edits by hand: each mistake is named, before any data is read.
TEST(ImportMappingFile, EachMistakeIsNamedWithTheCollectionAndField) {
  auto error_of = [](const std::string& text) {
    try {
      ImportMapping::parse(text, "mapping 'm.json'");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string head = R"({"format": "facecrowd-import-mapping", "version": 1, "db": "face-recognition", "collections": )";
  EXPECT_NE(error_of("[1, 2]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(head + R"({"people": {"as": "persons"}}})").find("collection 'people': \"as\": \"persons\" is not a facecrowd collection"),
            std::string::npos);
  EXPECT_NE(error_of(head + R"({"users": {"as": "users", "fields": {"nickname": {"from": ["nick"]}}}}})")
                .find("collection 'users', field 'nickname': users has no field 'nickname' to fill"),
            std::string::npos);
  EXPECT_NE(error_of(head + R"({"users": {"as": "users", "fields": {"email": {"from": []}}}}})")
                .find("field 'email': \"from\" must name at least one source field"),
            std::string::npos);
  EXPECT_NE(error_of(head + R"({"a": {"as": "fs.files"}, "b": {"as": "fs.files"}}})").find("a second collection mapped to fs.files"),
            std::string::npos);
  // The shipped default parses, and maps the old system's collection names.
  auto m = ImportMapping::default_mapping();
  EXPECT_EQ(m.db, "face-recognition");
  ASSERT_NE(m.for_source("faceprofiles"), nullptr);
  EXPECT_EQ(m.for_source("faceprofiles")->field("descriptors")->from.front(), "descriptors");
}

// A tar whose members climb out of the dump or are links is refused whole (exit 3), nothing staged kept.
TEST(ImportHostileTar, MembersWithDotDotOrLinksAreRefused) {
  if (auto why = python_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir tmp;
  for (const auto& [name, body] : std::vector<std::pair<std::string, std::string>>{
           {"dotdot", "t.addfile(tarfile.TarInfo('dump/../../users.bson'), io.BytesIO(b''))"},
           {"link", "i = tarfile.TarInfo('dump/face-recognition/users.bson'); i.type = tarfile.SYMTYPE; "
                    "i.linkname = '/etc/passwd'; t.addfile(i)"}}) {
    fs::path archive = tmp.path() / (name + ".tar.gz");
    auto w = run_shell(std::string(kPython) + " -c \"import io, tarfile; t = tarfile.open('" + archive.string() +
                       "', 'w:gz'); " + body + "; t.close()\" 2>&1");
    ASSERT_EQ(w.exit_code, 0) << w.out;
    auto r = run_facecrowd("import " + q(archive), "FACECROWD_DATA=" + q(tmp.path() / "data"));
    EXPECT_EQ(r.exit_code, 3) << name << ": " << r.err;
    EXPECT_FALSE(fs::exists(tmp.path() / "data")) << name;
  }
}

}  // namespace
}  // namespace facecrowd
