// The gallery's HNSW index as a file: vision::Gallery::save_index/adopt_index, and the cache beside the
// database that enroll and recognize search through (app/faces/gallery_index.h), erasure included.
#include <gtest/gtest.h>

#include <bson/bson.h>

#include <fstream>
#include <random>
#include <set>

#include "app/privacy/erasure.h"
#include "app/privacy/erasure_ledger.h"
#include "app/faces/gallery_index.h"
#include "core/error.h"
#include "store/database.h"
#include "store/schema.h"
#include "face_test_support.h"
#include "test_support.h"
#include "vision/gallery.h"

namespace facecrowd {
namespace {

using vision::Gallery;
using Vec = std::vector<float>;

struct Entry {
  std::string person, id;
  Vec v;
};

std::vector<Entry> random_entries(size_t n, size_t per_person, const std::string& prefix, std::mt19937& rng) {
  std::vector<Entry> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back({prefix + "p" + std::to_string(i / per_person), prefix + "e" + std::to_string(i), random_unit_vector(rng)});
  }
  return out;
}

void fill(Gallery& g, const std::vector<Entry>& entries) {
  for (const auto& e : entries) g.add(e.person, e.id, e.v);
}

size_t index_files(const fs::path& dir) {
  size_t n = 0;
  for (const auto& f : fs::directory_iterator(dir)) n += f.path().filename().string().rfind("gallery-index", 0) == 0;
  return n;
}

TEST(GalleryIndexFile, SavedIndexIsAdoptedReconciledAndAgreesWithExactSearch) {
  TempDir tmp;
  std::mt19937 rng(7);
  auto entries = random_entries(600, 3, "", rng);
  Gallery saved(SIZE_MAX);
  fill(saved, entries);
  saved.build_index();
  ASSERT_TRUE(saved.uses_hnsw());
  fs::path file = tmp.path() / "a.hnsw";
  auto labels = saved.save_index(file.string());
  ASSERT_EQ(labels.size(), 600u);

  // Since the save: persons p0..p9 left (30 embeddings), 20 embeddings came, e100 got another vector.
  std::vector<Entry> now(entries.begin() + 30, entries.end());
  auto fresh = random_entries(20, 2, "new-", rng);
  now.insert(now.end(), fresh.begin(), fresh.end());
  for (auto& e : now)
    if (e.id == "e100") e.v = random_unit_vector(rng);
  Gallery adopted(SIZE_MAX), exact(SIZE_MAX);
  fill(adopted, now);
  fill(exact, now);
  auto reuse = adopted.adopt_index(file.string(), labels);
  ASSERT_TRUE(reuse);
  EXPECT_EQ(reuse->kept, 569u);
  EXPECT_EQ(reuse->added, 21u);
  EXPECT_EQ(reuse->removed, 31u);
  EXPECT_TRUE(adopted.uses_hnsw());
  EXPECT_EQ(adopted.size(), now.size());
  for (size_t i = 0; i < now.size(); i += 7) {
    auto a = adopted.search(now[i].v), b = exact.search(now[i].v);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->person_id, now[i].person);
    EXPECT_EQ(a->embedding_id, now[i].id);
    EXPECT_EQ(a->runner_up_id, b->runner_up_id) << i;
    // The matched face's isolation (MatchPolicy::gallery_isolation) comes from a second search, through the
    // adopted index too: the same neighbour at the same distance.
    EXPECT_EQ(a->isolation_person_id, b->isolation_person_id) << i;
    EXPECT_FLOAT_EQ(a->isolation, b->isolation) << i;
  }
  EXPECT_FALSE(adopted.search(entries[0].v)->person_id == "p0");  // removed persons are not found

  // Too much to add for a one-shot command: nothing changes.
  Gallery busy(SIZE_MAX);
  fill(busy, now);
  EXPECT_FALSE(busy.adopt_index(file.string(), labels, 5));
  EXPECT_FALSE(busy.uses_hnsw());
  EXPECT_EQ(busy.search(now[3].v)->embedding_id, now[3].id);

  // A damaged file or a table of another length is refused, and the gallery stays exact.
  labels.pop_back();
  EXPECT_THROW(busy.adopt_index(file.string(), labels), std::runtime_error);
  fs::resize_file(file, fs::file_size(file) / 2);
  labels = saved.save_index((tmp.path() / "b.hnsw").string());
  EXPECT_THROW(busy.adopt_index(file.string(), labels), std::runtime_error);
  EXPECT_FALSE(busy.uses_hnsw());
}

// Profiles with one embedding each, as enrollment stores them.
void insert_profiles(Database& db, const std::vector<Entry>& entries, const std::string& model) {
  auto tx = db.write();
  for (const auto& e : entries) {
    bson_t* doc = bson_new();
    bson_oid_t oid, eid;
    bson_oid_init(&oid, nullptr);
    bson_oid_init(&eid, nullptr);
    BSON_APPEND_OID(doc, "_id", &oid);
    BSON_APPEND_UTF8(doc, "name", e.person.c_str());
    bson_t arr, emb;
    BSON_APPEND_ARRAY_BEGIN(doc, "embeddings", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &emb);
    BSON_APPEND_OID(&emb, "_id", &eid);
    append_embedding_vector(&emb, "vector", e.v);
    BSON_APPEND_UTF8(&emb, "modelVersion", model.c_str());
    bson_append_document_end(&arr, &emb);
    bson_append_array_end(doc, &arr);
    tx.insert("faceprofiles", Document(doc));
  }
  tx.commit();
}

TEST(GalleryIndexCache, OneShotSearchUsesTheCacheOnlyWhenItIsSoundAndErasureDropsIt) {
  TempDir tmp;
  fs::path root = tmp.path() / "data";
  const std::string name(kDefaultDatabase);
  auto db = Database::open(DataDir::open(root), name);
  const fs::path db_dir = db->file().parent_path();
  std::mt19937 rng(11);
  auto entries = random_entries(300, 1, "", rng);
  insert_profiles(*db, entries, "model-A");
  auto open = [&](size_t indexed_from = 100, const std::string& model = "model-A", size_t searches = 100,
                  GallerySearchMode mode = GallerySearchMode::kAuto) {
    auto tx = db->read();
    return open_search_gallery(tx, db_dir, model, searches, mode, indexed_from);
  };

  auto before = open();
  EXPECT_FALSE(before.index.used);
  EXPECT_NE(before.index.note.find("facecrowd gallery index"), std::string::npos) << before.index.note;
  EXPECT_FALSE(open(1000).index.used);  // below the size where an index pays

  auto built = index_gallery(root, name, "model-A");
  EXPECT_EQ(built.embeddings, 300u);
  EXPECT_FALSE(built.reused_previous);
  EXPECT_TRUE(fs::exists(built.file));
  auto used = open();
  ASSERT_TRUE(used.index.used) << used.index.note;
  EXPECT_FALSE(open(100, "model-A", 99).index.used);  // too few faces for reading the index to pay
  EXPECT_TRUE(open(1000, "model-A", 1, GallerySearchMode::kIndex).index.used);  // unless asked
  EXPECT_FALSE(open(100, "model-A", 1000, GallerySearchMode::kExact).index.used);
  EXPECT_EQ(used.index.reuse.kept, 300u);
  EXPECT_EQ(used.gallery->search(entries[42].v)->person_id.size(), 24u);

  // Enrolled since: added on use; a refresh re-uses the file and leaves one index file.
  insert_profiles(*db, random_entries(5, 1, "late-", rng), "model-A");
  auto patched = open();
  ASSERT_TRUE(patched.index.used);
  EXPECT_EQ(patched.index.reuse.added, 5u);
  auto refreshed = index_gallery(root, name, "model-A");
  EXPECT_TRUE(refreshed.reused_previous);
  EXPECT_EQ(refreshed.reuse.kept, 300u);
  EXPECT_EQ(refreshed.reuse.added, 5u);
  EXPECT_EQ(index_files(db_dir), 2u);  // the table and one .hnsw
  EXPECT_EQ(open().index.reuse.added, 0u);

  // Another model's gallery does not use it.
  insert_profiles(*db, random_entries(3, 1, "b-", rng), "model-B");
  auto other = open(0, "model-B");
  EXPECT_FALSE(other.index.used);
  EXPECT_NE(other.index.note.find("another model"), std::string::npos) << other.index.note;

  // Damage. hnswlib's file: a 96-byte header, then per element its level-0 link list (a count word, then
  // 32 links), its 128 floats and its label. A changed vector byte: that entry is replaced, answers stay right.
  auto poke = [&](std::streamoff at, const std::string& bytes) {
    std::fstream f(refreshed.file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(at);
    f.write(bytes.data(), std::streamsize(bytes.size()));
  };
  poke(96 + 4 + 32 * 4 + 10, "\x5a\x5a");
  auto patched_vector = open();
  ASSERT_TRUE(patched_vector.index.used) << patched_vector.index.note;
  EXPECT_EQ(patched_vector.index.reuse.added, 1u);
  EXPECT_EQ(patched_vector.index.reuse.removed, 1u);
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(patched_vector.gallery->search(entries[i].v)->distance, 0.0f) << i;
  // A link pointing outside the index would make a search read out of bounds: the file is refused.
  poke(96 + 4, "\xff\xff\xff\x7f");
  auto damaged = open();
  EXPECT_FALSE(damaged.index.used);
  EXPECT_NE(damaged.index.note.find("damaged"), std::string::npos) << damaged.index.note;
  EXPECT_TRUE(damaged.gallery->search(entries[7].v).has_value());

  // Erasure leaves no index file behind (a markDeleted vector would stay in it).
  index_gallery(root, name, "model-A");
  ASSERT_EQ(index_files(db_dir), 2u);
  std::string victim = used.gallery->search(entries[0].v)->person_id;
  db.reset();
  erase_person(root, victim, {});
  EXPECT_EQ(index_files(db_dir), 0u);
}

// The whole path: 5,000 synthetic people of the real model beside two enrolled real ones; recognize scans
// until `gallery index` runs, then (asked with --search index: a two-face photo would not pay for reading
// it) searches through the index, with the same answer.
TEST(GalleryIndexCli, RecognizeSearchesThroughTheIndexOnceBuilt) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  FaceWorld w;
  auto models = w.cli_json("models check");
  ASSERT_TRUE(models.contains("embeddingModelVersion"));
  std::string version = models["embeddingModelVersion"];
  auto demo = w.cli("demo-data --profiles 5000 --users 1 --attendances 0 --crowdcounts 0 --auditlogs 0 --image-mb 0 "
                    "--embedding-model '" + version + "'");
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  w.cli_json("enroll --name Obama " + identity("obama", "obama.jpg") + " " + identity("obama", "obama1.jpg"));
  w.cli_json("enroll --name Biden " + identity("biden", "biden.jpg"));

  auto scanned = w.cli_json("recognize " + group("two_people.jpg") + " --session before --search index");
  EXPECT_EQ(scanned["gallery"]["search"], "exact");
  EXPECT_EQ(scanned["gallery"]["embeddings"], 5003);
  EXPECT_NE(scanned["gallery"]["note"].get<std::string>().find("facecrowd gallery index"), std::string::npos);

  auto built = w.cli_json("gallery index");
  EXPECT_EQ(built["embeddings"], 5003);
  auto automatic = w.cli_json("recognize " + group("two_people.jpg") + " --session auto");
  EXPECT_EQ(automatic["gallery"]["search"], "exact");
  EXPECT_NE(automatic["gallery"]["note"].get<std::string>().find("to search (reading the index pays"), std::string::npos);
  auto indexed = w.cli_json("recognize " + group("two_people.jpg") + " --session after --search index");
  EXPECT_EQ(indexed["gallery"]["search"], "hnsw") << indexed["gallery"];
  auto names = [](const nlohmann::json& r) {
    std::set<std::string> out;
    for (const auto& f : r["recognised"]) out.insert(f["personName"].get<std::string>());
    return out;
  };
  EXPECT_EQ(names(indexed), (std::set<std::string>{"Obama", "Biden"})) << indexed.dump(1);
  EXPECT_EQ(names(indexed), names(scanned));
}

// A person in the erasure ledger but still in the store (an erasure in flight, or one that crashed before
// its commit) is left out of the index: its vector must not reach a file.
TEST(GalleryIndexCache, PeopleInTheErasureLedgerAreLeftOut) {
  TempDir tmp;
  fs::path root = tmp.path() / "data";
  const std::string name(kDefaultDatabase);
  auto db = Database::open(DataDir::open(root), name);
  std::mt19937 rng(3);
  auto entries = random_entries(50, 1, "", rng);
  insert_profiles(*db, entries, "model-A");
  std::string victim;
  {
    Gallery g(SIZE_MAX);
    auto tx = db->read();
    load_gallery(tx, "model-A", g);
    victim = g.search(entries[17].v)->person_id;
  }
  ErasureRecord record;
  record.person_id = victim;
  record.db = name;
  ErasureLedger(root).append(record);
  auto written = index_gallery(root, name, "model-A");
  EXPECT_EQ(written.embeddings, 49u);
  auto tx = db->read();
  auto search = open_search_gallery(tx, db->file().parent_path(), "model-A", 100, GallerySearchMode::kIndex, 0);
  ASSERT_TRUE(search.index.used) << search.index.note;
  EXPECT_EQ(search.index.reuse.kept, 49u);
  EXPECT_EQ(search.index.reuse.added, 1u);  // the store still has them: added in memory, never in the file
}

// A full disk while writing: hnswlib's unchecked stream leaves a short file, which is caught; the command
// fails with kIo, the previous index stays the one in use, and no partial file is left.
TEST(GalleryIndexCache, FullDiskKeepsThePreviousIndex) {
  TempDir tmp;
  fs::path db_dir = tmp.path() / "db";
  TmpfsMount disk(db_dir, "size=1m");
  if (!disk.ok()) GTEST_SKIP() << "needs root and tmpfs mounts to fill a disk";
  std::mt19937 rng(5);
  auto entries = random_entries(600, 2, "", rng);  // ~0.4 MB of index
  Gallery small(SIZE_MAX);
  fill(small, entries);
  auto first = write_gallery_index(db_dir, "model-A", small);
  ASSERT_TRUE(fs::exists(first.file));
  // Fill most of the rest, then try a bigger index.
  write_text(db_dir / "ballast", std::string(400 << 10, 'x'));
  Gallery big(SIZE_MAX);
  fill(big, random_entries(1200, 2, "big-", rng));
  try {
    write_gallery_index(db_dir, "model-A", big);
    ADD_FAILURE() << "a full disk went unnoticed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo) << e.what();
    EXPECT_NE(std::string(e.what()).find("short write"), std::string::npos) << e.what();
  }
  fs::remove(db_dir / "ballast");
  EXPECT_EQ(index_files(db_dir), 2u);  // the table and the first index, nothing half-written
  EXPECT_NE(read_text(db_dir / "gallery-index.ids").find(first.file.filename().string()), std::string::npos);
}

TEST(GalleryIndexCli, IndexCommandReportsAndRefusesAMissingDatabase) {
  if (!fs::exists(face_models_dir() / "SHA256SUMS")) GTEST_SKIP() << "face models not prepared (tools/prepare_models.sh)";
  TempDir tmp;
  fs::path root = tmp.path() / "data";
  Database::open(DataDir::open(root), std::string(kDefaultDatabase));
  auto r = run_facecrowd("--data " + root.string() + " --models " + face_models_dir().string() + " gallery index --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"embeddings\": 0"), std::string::npos) << r.out;
  auto missing = run_facecrowd("--data " + root.string() + " --models " + face_models_dir().string() +
                               " gallery index --db no-such-db");
  EXPECT_EQ(missing.exit_code, int(ExitCode::kNotFound)) << missing.err;
  EXPECT_NE(missing.err.find("no-such-db"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace facecrowd
