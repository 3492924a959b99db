// `facecrowd gallery reembed` and `gallery status` (app/faces/gallery_reembed.h, app/faces/gallery_models.h) on
// real photos, the real models and a real store. A gallery of an older face model is made as that model would
// have left it: today's enrollments with every embedding relabelled with another model version.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <map>
#include <set>
#include <stdexcept>

#include "app/faces/gallery_loader.h"
#include "app/faces/gallery_reembed.h"
#include "core/object_id.h"
#include "devtools/model_switch.h"
#include "face_test_support.h"
#include "store/file_store.h"
#include "store/generation_claim.h"
#include "vision/model_files.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;
constexpr const char* kOldModel = "older-model-v0";

class ReembedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    current_ = vision::open_model_files(face_models_dir()).embedding_model_version;
  }
  std::unique_ptr<Database> open_db() const {
    return Database::open(DataDir::open(world.data()), std::string(kDefaultDatabase));
  }
  // Enrolls Obama and Biden from two photos each, then relabels every embedding as an older model's.
  void enroll_two_people_under_an_older_model() {
    ASSERT_EQ(world.cli("enroll --name 'Barack Obama' " + identity("obama", "obama.jpg") + " " +
                        identity("obama", "obama1.jpg")).exit_code, 0);
    ASSERT_EQ(world.cli("enroll --name 'Joe Biden' " + identity("biden", "biden.jpg") + " " +
                        identity("biden", "biden2.jpg")).exit_code, 0);
    relabel_embeddings_as(*open_db(), kOldModel);
  }
  // profile name -> source file id -> model versions of its embeddings of that image
  std::map<std::string, std::map<std::string, std::multiset<std::string>>> embeddings_by_image() const {
    std::map<std::string, std::map<std::string, std::multiset<std::string>>> out;
    auto db = open_db();
    auto tx = db->read();
    tx.find("faceprofiles", Query{}, [&](const Document& p) {
      std::string name = p.to_json()["name"];
      for (const auto& e : profile_embeddings(p)) {
        EXPECT_TRUE(e.vector) << "an embedding of " << name << " has no whole vector";
        out[name][e.source_file_id.value_or("none")].insert(e.model_version);
      }
      return true;
    });
    return out;
  }
  // The profile named `name`, as read in `tx` (the write transaction that will replace it); nullopt if none.
  static std::optional<Json> profile_named(Database::WriteTransaction& tx, const std::string& name) {
    std::optional<Json> found;
    tx.find("faceprofiles", Query{}, [&](const Document& d) {
      if (d.to_json()["name"] == name) found = d.to_json();
      return !found;
    });
    return found;
  }
  std::vector<Json> audit(const std::string& action) const {
    std::vector<Json> out;
    for (auto& a : world.documents("auditlogs"))
      if (a["action"] == action) out.push_back(a);
    return out;
  }
  std::set<std::string> recognised(const CommandResult& r) const {
    std::set<std::string> names;
    auto j = Json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return names;
    for (const auto& f : j["recognised"]) names.insert(f["personName"].get<std::string>());
    return names;
  }

  FaceWorld world;
  std::string current_;
};

TEST_F(ReembedTest, AGalleryOfAnotherModelIsWarnedAboutThenEmbeddedAgainFromItsStoredImagesAndRecognisedAgain) {
  enroll_two_people_under_an_older_model();
  auto old_vectors = world.documents("faceprofiles");

  // Before: nobody is found, and recognize says why and what to run (on stderr, and in the JSON).
  auto before = world.cli("recognize " + group("two_people.jpg") + " --session s1 --json");
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_TRUE(recognised(before).empty()) << before.out;
  EXPECT_NE(before.err.find("2 enrolled profiles have embeddings only of other face models ('older-model-v0')"),
            std::string::npos) << before.err;
  EXPECT_NE(before.err.find("facecrowd gallery reembed"), std::string::npos) << before.err;
  EXPECT_EQ(Json::parse(before.out)["warnings"].size(), 1u);
  auto status = world.cli("gallery status --json");
  EXPECT_EQ(status.exit_code, 1) << status.err;
  auto status_json = Json::parse(status.out);
  EXPECT_EQ(status_json["profilesWithoutModel"], 2);
  EXPECT_EQ(status_json["imagesToEmbed"], 4);
  EXPECT_TRUE(status_json["warning"].is_string());

  auto run = world.cli("gallery reembed --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // Progress on stderr also when it is not a terminal: the first image and the last, with rate and ETA.
  EXPECT_NE(run.err.find("reembed 1/4 images (1 embedded, 0 skipped), "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("images/s, ETA "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("reembed 4/4 images (4 embedded, 0 skipped)"), std::string::npos) << run.err;
  auto report = Json::parse(run.out);
  EXPECT_EQ(report["profiles"], 2);
  EXPECT_EQ(report["images"], 4);
  EXPECT_EQ(report["planned"], 4);
  EXPECT_EQ(report["embedded"], 4);
  EXPECT_EQ(report["skipped"]["count"], 0);
  EXPECT_TRUE(report["complete"].get<bool>());
  EXPECT_EQ(report["embeddingsBefore"], Json({{kOldModel, 4}}));
  EXPECT_EQ(report["embeddingsAfter"], Json({{kOldModel, 4}, {current_, 4}}));
  EXPECT_EQ(report["profilesWithoutModelBefore"], 2);
  EXPECT_EQ(report["profilesWithoutModelAfter"], 0);
  EXPECT_TRUE(report["index"].is_null()) << "no index was kept, so none is made";

  // Exactly the images that had only old embeddings got one of the current model; the old ones are kept as
  // they were (switching back to the old model needs them).
  for (const auto& [name, images] : embeddings_by_image()) {
    EXPECT_EQ(images.size(), 2u) << name;
    for (const auto& [file, models] : images)
      EXPECT_EQ(models, (std::multiset<std::string>{kOldModel, current_})) << name << " image " << file;
  }
  std::map<std::string, Json> now;  // by profile id: the store's order is not the enrollment's
  for (auto& p : world.documents("faceprofiles")) now[p["_id"]["$oid"]] = p;
  ASSERT_EQ(now.size(), old_vectors.size());
  for (const auto& old : old_vectors) {
    const Json& p = now[old["_id"]["$oid"]];
    ASSERT_EQ(p["embeddings"].size(), 2 * old["embeddings"].size());
    for (size_t k = 0; k < old["embeddings"].size(); ++k)
      EXPECT_EQ(p["embeddings"][k], old["embeddings"][k]) << "an old embedding changed";
  }
  // One audited batch naming what it added.
  auto batches = audit("gallery.reembed");
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0]["target"], current_);
  EXPECT_EQ(batches[0]["details"]["added"].size(), 4u);

  // After: both are found again, with no warning; status is clean.
  auto after = world.cli("recognize " + group("two_people.jpg") + " --session s2 --json");
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(recognised(after), (std::set<std::string>{"Barack Obama", "Joe Biden"})) << after.out;
  EXPECT_EQ(after.err.find("warning"), std::string::npos) << after.err;
  EXPECT_TRUE(Json::parse(after.out)["warnings"].empty());
  EXPECT_EQ(world.cli("gallery status").exit_code, 0);

  // Idempotent: a second run finds nothing to do and writes nothing.
  auto profiles = world.documents("faceprofiles");
  auto again = world.cli_json("gallery reembed");
  EXPECT_EQ(again["planned"], 0);
  EXPECT_EQ(again["embedded"], 0);
  EXPECT_EQ(world.documents("faceprofiles"), profiles);
  EXPECT_EQ(audit("gallery.reembed").size(), 1u);
}

TEST_F(ReembedTest, EnrollWarnsThatItCouldNotCompareANewFaceWithProfilesOfAnotherModelOnlyUntilTheyAreReembedded) {
  enroll_two_people_under_an_older_model();
  // Obama's face under another name: the match check cannot see the old-model profile, so it says so.
  auto blind = world.cli("enroll --name 'Look Alike' " + identity("obama", "obama2.jpg"));
  EXPECT_EQ(blind.exit_code, 0) << blind.err;
  EXPECT_NE(blind.err.find("could not be compared with them"), std::string::npos) << blind.err;
  EXPECT_NE(blind.err.find("facecrowd gallery reembed"), std::string::npos) << blind.err;
  auto entry = audit("profile.enroll").back();
  EXPECT_TRUE(entry["details"]["warnings"].empty()) << "the gallery's state is not the enrollment's: not audited";

  ASSERT_EQ(world.cli("gallery reembed").exit_code, 0);
  // Now the match is seen and refused, as enroll does for any face of another profile.
  auto refused = world.cli("enroll --name 'Second Look Alike' " + identity("obama", "obama_small.jpg"));
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_EQ(refused.err.find("could not be compared"), std::string::npos) << refused.err;
}

TEST_F(ReembedTest, AnInterruptedRunLosesAtMostItsBatchAndTheNextRunsFinishIt) {
  enroll_two_people_under_an_older_model();
  {
    // Killed while embedding the third image of batches of two: the first batch is stored, the second is not.
    auto pipeline = vision::FacePipeline::open(face_models_dir());
    auto db = open_db();
    ReembedOptions options;
    options.batch_images = 2;
    options.progress = [](const ReembedProgress& p) {
      if (p.done == 3) throw std::runtime_error("interrupted");
    };
    EXPECT_THROW(reembed_gallery(*db, *pipeline, Actor{"tester", "local"}, options), std::runtime_error);
  }
  auto count_current = [&] {
    int n = 0;
    for (const auto& [name, images] : embeddings_by_image())
      for (const auto& [file, models] : images) n += int(models.count(current_));
    return n;
  };
  EXPECT_EQ(count_current(), 2);
  EXPECT_EQ(audit("gallery.reembed").size(), 1u);

  // A limited run does one more image and says that work is left (exit 1).
  auto limited = world.cli("gallery reembed --limit 1 --json");
  EXPECT_EQ(limited.exit_code, 1) << limited.err;
  auto l = Json::parse(limited.out);
  EXPECT_EQ(l["planned"], 1);
  EXPECT_EQ(l["embedded"], 1);
  EXPECT_EQ(l["remaining"], 1);
  EXPECT_FALSE(l["complete"].get<bool>());
  EXPECT_EQ(count_current(), 3);

  // The last run does only what is left; every image ends with exactly one embedding of each model.
  auto last = world.cli_json("gallery reembed");
  EXPECT_EQ(last["planned"], 1);
  EXPECT_EQ(last["embedded"], 1);
  EXPECT_TRUE(last["complete"].get<bool>());
  for (const auto& [name, images] : embeddings_by_image())
    for (const auto& [file, models] : images)
      EXPECT_EQ(models, (std::multiset<std::string>{kOldModel, current_})) << name << " image " << file;
}

TEST_F(ReembedTest, AStoredImageThatIsMissingNotAnImageOrFacelessIsSkippedWithItsReasonAndTheOthersAreEmbedded) {
  enroll_two_people_under_an_older_model();
  std::string missing = new_object_id();
  {
    auto db = open_db();
    auto tx = db->write();
    std::string text = put_file(tx, "plain text, not a photo\n", "note.jpg", "image/jpeg", FileKind::kFacialImage);
    std::vector<uchar> grey_jpeg;
    cv::imencode(".jpg", cv::Mat(480, 640, CV_8UC3, cv::Scalar(128, 128, 128)), grey_jpeg);
    std::string grey = put_file(tx, std::string(grey_jpeg.begin(), grey_jpeg.end()), "wall.jpg", "image/jpeg",
                                FileKind::kFacialImage);
    std::optional<Json> obama = profile_named(tx, "Barack Obama");
    ASSERT_TRUE(obama);
    Json j = *obama;
    for (const auto& id : {missing, text, grey}) j["facialImageIds"].push_back({{"$oid", id}});
    tx.replace("faceprofiles", Document::from_json(j));
    tx.commit();
  }
  auto run = world.cli("gallery reembed --json");
  EXPECT_EQ(run.exit_code, 1) << run.err;
  auto report = Json::parse(run.out);
  EXPECT_EQ(report["planned"], 7);
  EXPECT_EQ(report["embedded"], 4);
  ASSERT_EQ(report["skipped"]["count"], 3) << report.dump(2);
  std::map<std::string, std::string> why;
  for (const auto& s : report["skipped"]["images"]) why[s["fileId"]] = s["reason"];
  EXPECT_NE(why[missing].find("not readable from the store"), std::string::npos) << why[missing];
  EXPECT_EQ(why.size(), 3u);
  int no_face = 0, not_image = 0;
  for (const auto& [file, reason] : why) {
    no_face += reason == "no face found";
    not_image += reason.find("not a supported image") != std::string::npos;
  }
  EXPECT_EQ(no_face, 1) << report["skipped"].dump(2);
  EXPECT_EQ(not_image, 1) << report["skipped"].dump(2);
  // Named on stderr without --json.
  auto again = world.cli("gallery reembed");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("skipped: profile"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find(missing), std::string::npos) << again.err;
}

TEST_F(ReembedTest, DropOtherModelsRemovesOnlyOldEmbeddingsWhoseImageHasOneOfTheCurrentModel) {
  enroll_two_people_under_an_older_model();
  {
    // An imported descriptor of the old model: no source image, so it can never be replaced.
    auto db = open_db();
    auto tx = db->write();
    std::optional<Json> biden = profile_named(tx, "Joe Biden");
    ASSERT_TRUE(biden);
    Json j = *biden;
    Json descriptor = j["embeddings"][0];
    descriptor.erase("sourceFileId");
    descriptor["_id"] = {{"$oid", new_object_id()}};
    j["embeddings"].push_back(descriptor);
    tx.replace("faceprofiles", Document::from_json(j));
    tx.commit();
  }
  auto dry = world.cli_json("gallery reembed --dry-run --drop-other-models");
  EXPECT_EQ(dry["planned"], 4);
  EXPECT_EQ(dry["embedded"], 0);
  EXPECT_EQ(dry["dropOtherModels"]["dropped"], 0) << "nothing has a current embedding yet";
  EXPECT_TRUE(audit("gallery.reembed").empty());

  auto run = world.cli_json("gallery reembed --drop-other-models");
  EXPECT_EQ(run["embedded"], 4);
  EXPECT_EQ(run["dropOtherModels"]["dropped"], 4);
  EXPECT_EQ(run["dropOtherModels"]["kept"], 1);
  EXPECT_EQ(run["embeddingsAfter"], Json({{kOldModel, 1}, {current_, 4}}));
  auto drops = audit("gallery.drop-other-models");
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0]["details"]["removed"], 4);
  // Every image keeps its current embedding; the descriptor without an image stays.
  auto images = embeddings_by_image();
  EXPECT_EQ(images["Joe Biden"]["none"], std::multiset<std::string>{kOldModel});
  for (const auto& [name, by_image] : images)
    for (const auto& [file, models] : by_image) {
      if (file != "none") {
        EXPECT_EQ(models, std::multiset<std::string>{current_}) << name;
      }
    }
}

TEST_F(ReembedTest, IsRefusedAsBusyWhileARestoreBuildsANewGenerationAndWritesNothing) {
  enroll_two_people_under_an_older_model();
  auto profiles = world.documents("faceprofiles");
  auto claim = GenerationClaim::acquire(world.data() / std::string(kDefaultDatabase));
  claim->name("gen-999999.sqlite");
  auto run = world.cli("gallery reembed");
  EXPECT_EQ(run.exit_code, 7) << run.err;
  EXPECT_NE(run.err.find("a restore is building"), std::string::npos) << run.err;
  claim.reset();
  EXPECT_EQ(world.documents("faceprofiles"), profiles);
  EXPECT_TRUE(audit("gallery.reembed").empty());
}

TEST_F(ReembedTest, TheChangesGoThroughTheOplogAndABackupRestoresThem) {
  enroll_two_people_under_an_older_model();
  OplogTimestamp before;
  {
    auto db = open_db();
    auto tx = db->read();
    before = tx.position();
  }
  ASSERT_EQ(world.cli("gallery reembed").exit_code, 0);
  int updates = 0;
  {
    auto db = open_db();
    auto tx = db->read();
    tx.scan_oplog(before, tx.position(), [&](OplogTimestamp, std::string_view entry) {
      Document e = Document::from_bytes(reinterpret_cast<const uint8_t*>(entry.data()), entry.size());
      Json j = e.to_json();
      if (j.value("ns", "").ends_with(".faceprofiles") && j["o"].dump().find(current_) != std::string::npos) ++updates;
    });
  }
  EXPECT_EQ(updates, 2) << "one replace of each profile, holding the new embeddings";
  // A backup taken now restores the re-embedded gallery.
  std::string backups = "FACECROWD_BACKUP_DIR=" + q(world.dir.path() / "backup");
  auto env = "FACECROWD_DATA=" + q(world.data()) + " FACECROWD_MODELS=" + q(face_models_dir()) + " " + backups;
  ASSERT_EQ(run_facecrowd("backup", env).exit_code, 0);
  auto restored = run_facecrowd("restore latest --db copy", env);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  auto copy = Database::open(DataDir::open(world.data()), "copy");
  auto tx = copy->read();
  int current = 0;
  tx.find("faceprofiles", Query{}, [&](const Document& p) {
    for (const auto& e : profile_embeddings(p)) current += e.model_version == current_;
    return true;
  });
  EXPECT_EQ(current, 4);
}

TEST_F(ReembedTest, AKeptSearchIndexOfTheOldModelIsRebuiltForTheCurrentOne) {
  enroll_two_people_under_an_older_model();
  ASSERT_EQ(world.cli("--quiet gallery index").exit_code, 0);  // of the current model: no embeddings, nothing kept
  const fs::path table = world.data() / std::string(kDefaultDatabase) / "gallery-index.ids";
  // The index an operator kept under the old model: its header names that model.
  write_text(table, Json({{"format", 1}, {"hnsw", "gallery-index-old.hnsw"}, {"bytes", 0}, {"modelVersion", kOldModel},
                          {"labels", 0}}).dump() + "\n");
  auto run = world.cli("--quiet gallery reembed --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(run.err.empty()) << "--quiet: no progress; " << run.err;
  auto report = Json::parse(run.out);
  ASSERT_TRUE(report["index"].is_object()) << report.dump(2);
  EXPECT_EQ(report["index"]["embeddings"], 4);
  std::string header = read_text(table).substr(0, read_text(table).find('\n'));
  EXPECT_EQ(Json::parse(header)["modelVersion"], current_);
  EXPECT_EQ(Json::parse(header)["labels"], 4);
}

TEST(ReembedProgressText, NamesTheCountsTheRateAndTheTimeLeft) {
  EXPECT_EQ(format_reembed_progress({40, 1200, 38, 2, 10.0}),
            "reembed 40/1200 images (38 embedded, 2 skipped), 4.00 images/s, ETA 4m50s");
  EXPECT_EQ(format_reembed_progress({0, 10, 0, 0, 0.0}), "reembed 0/10 images (0 embedded, 0 skipped)");
  EXPECT_EQ(format_reembed_progress({1, 10000, 1, 0, 2.0}),
            "reembed 1/10000 images (1 embedded, 0 skipped), 0.50 images/s, ETA 5h33m");
}

}  // namespace
}  // namespace facecrowd
