// Crowd counting on real crowd images from ../shared/data/crowd: the counter and its tiling, the sanity
// images, the stored record and files, list/summary, the evaluation, and the bad inputs.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "devtools/eval_crowd.h"
#include "core/error.h"
#include "face_test_support.h"
#include "store/file_store.h"
#include "vision/crowd_counter.h"
#include "vision/density_rendering.h"
#include "vision/image_loader.h"

namespace facecrowd {
namespace {

using vision::CrowdCounter;
using vision::CrowdOptions;
using vision::DensityMap;

fs::path crowd_data() {
  fs::path d = shared_data_dir();
  return d.empty() ? d : d / "crowd";
}
fs::path part_b() { return crowd_data() / "shanghaitech" / "part_B" / "train"; }
fs::path split_file() { return fs::path(FACECROWD_SOURCE_DIR) / "tools" / "crowd" / "crowd_head.split.json"; }

std::string crowd_skip_reason() {
  if (crowd_data().empty() || !fs::is_directory(part_b() / "images")) return "shared data (../shared/data/crowd) not present";
  if (!fs::exists(face_models_dir() / "crowd_density.onnx"))
    return "crowd model not prepared in " + face_models_dir().string() + " (tools/prepare_models.sh)";
  return "";
}

// The first held-out part B image (never trained on) and its annotated count.
CrowdTruth validation_image_b() {
  auto names = read_validation_names(split_file(), "B");
  return list_crowd_truth(part_b(), std::set<std::string>{*names.begin()}).front();
}

class CrowdCounterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = crowd_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    counter = CrowdCounter::open(face_models_dir());
  }
  std::unique_ptr<CrowdCounter> counter;
};

TEST_F(CrowdCounterTest, DensityMapCoversTheImageAndSumsToTheCount) {
  CrowdTruth truth = validation_image_b();
  cv::Mat image = vision::load_image(truth.image);
  DensityMap map = counter->count(image);
  EXPECT_EQ(map.cells.rows, (image.rows + 7) / 8);
  EXPECT_EQ(map.cells.cols, (image.cols + 7) / 8);
  EXPECT_EQ(map.tiles, 1);
  double lowest = 0;
  cv::minMaxLoc(map.cells, &lowest);
  EXPECT_GE(lowest, 0.0);
  EXPECT_NEAR(cv::sum(map.cells)[0], map.count, 1e-3 * (1 + map.count));
  // A street scene: close to the annotation (the evaluation measures how close; this catches a broken model).
  EXPECT_NEAR(map.count, truth.count, 0.35 * truth.count + 5) << truth.image;

  // An odd size (not a multiple of 8 or 16) still gets one cell per started 8x8 block.
  cv::Mat odd = image(cv::Rect(0, 0, 1001, 757)).clone();
  DensityMap odd_map = counter->count(odd);
  EXPECT_EQ(odd_map.cells.rows, 95);
  EXPECT_EQ(odd_map.cells.cols, 126);
}

TEST_F(CrowdCounterTest, TilesAgreeWithOnePassAndBoundLargeImages) {
  CrowdTruth truth = validation_image_b();
  cv::Mat image = vision::load_image(truth.image);
  double whole = counter->count(image).count;

  CrowdCounter tiled(vision::open_crowd_model_file(face_models_dir()), CrowdOptions{.tile_side = 512, .context = 64});
  DensityMap quarters = tiled.count(image);
  EXPECT_EQ(quarters.tiles, 4);
  EXPECT_NEAR(quarters.count, whole, 0.10 * whole + 1.0);

  // A 3840x2160 frame holding six copies of the scene on grey: 12 tiles of 1024 px, six times the count.
  cv::Mat frame(2160, 3840, CV_8UC3, cv::Scalar::all(128));
  for (int i = 0; i < 6; ++i) image.copyTo(frame(cv::Rect((i % 3) * 1280, (i / 3) * 1080, image.cols, image.rows)));
  DensityMap big = counter->count(frame);
  EXPECT_EQ(big.tiles, 12);
  EXPECT_EQ(big.cells.rows, 270);
  EXPECT_EQ(big.cells.cols, 480);
  EXPECT_NEAR(big.count, 6 * whole, 0.15 * 6 * whole + 3);
}

// Scenes without a crowd must not come out as dozens of people.
TEST_F(CrowdCounterTest, SanityImagesCountCloseToTheirTruth) {
  cv::Mat black(768, 1024, CV_8UC3, cv::Scalar::all(0));
  cv::Mat white(768, 1024, CV_8UC3, cv::Scalar::all(255));
  // A plain painted wall: beige, lit from one side, with plaster grain.
  cv::Mat wall(768, 1024, CV_8UC3);
  cv::RNG rng(7);
  for (int y = 0; y < wall.rows; ++y)
    for (int x = 0; x < wall.cols; ++x) {
      double light = 0.8 + 0.2 * x / wall.cols, grain = rng.gaussian(4);
      wall.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(170 * light + grain),
                                          cv::saturate_cast<uchar>(200 * light + grain),
                                          cv::saturate_cast<uchar>(215 * light + grain));
    }
  cv::GaussianBlur(wall, wall, cv::Size(3, 3), 0);
  cv::Mat person = vision::load_image(faces_dir() / "identities" / "obama" / "obama.jpg");

  double black_count = counter->count(black).count, white_count = counter->count(white).count;
  double wall_count = counter->count(wall).count, person_count = counter->count(person).count;
  RecordProperty("black", std::to_string(black_count));
  RecordProperty("white", std::to_string(white_count));
  RecordProperty("wall", std::to_string(wall_count));
  RecordProperty("single_person", std::to_string(person_count));
  std::cout << "sanity counts: black " << black_count << ", white " << white_count << ", wall " << wall_count
            << ", single person " << person_count << "\n";
  EXPECT_LT(black_count, 1.0);
  EXPECT_LT(white_count, 1.0);
  EXPECT_LT(wall_count, 1.5);
  EXPECT_GT(person_count, 0.2);
  EXPECT_LT(person_count, 5.0);  // a close-up portrait: one face far larger than any head in training
}

TEST(CrowdRendering, HeatmapShowsTheDensityAndTheRawMapRoundTrips) {
  cv::Mat photo(160, 240, CV_8UC3, cv::Scalar(90, 120, 150));
  cv::Mat cells = cv::Mat::zeros(20, 30, CV_32F);
  cells.at<float>(5, 5) = 2.5f;
  cells.at<float>(6, 5) = 1.0f;
  cv::Mat heat = vision::render_heatmap(photo, cells);
  ASSERT_EQ(heat.size(), photo.size());
  ASSERT_EQ(heat.type(), CV_8UC3);
  EXPECT_GT(cv::norm(heat.at<cv::Vec3b>(44, 44), photo.at<cv::Vec3b>(44, 44)), 40.0);  // over the dense cell
  EXPECT_EQ(heat.at<cv::Vec3b>(150, 230), photo.at<cv::Vec3b>(150, 230));             // far from it: the photo

  std::string tiff = vision::encode_density_tiff(cells);
  cv::Mat back = cv::imdecode(std::vector<uchar>(tiff.begin(), tiff.end()), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(back.type(), CV_32F);
  EXPECT_EQ(cv::norm(back, cells, cv::NORM_INF), 0.0);

  // An empty map stays the photo (the colour scale has a floor).
  cv::Mat faint = cv::Mat::zeros(20, 30, CV_32F);
  faint.at<float>(10, 10) = 0.001f;
  cv::Mat clear = vision::render_heatmap(photo, faint);
  EXPECT_LT(cv::norm(clear, photo, cv::NORM_INF), 8.0);
}

// ---- the command, the record, list and summary -----------------------------------------------------

class CrowdCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = crowd_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  }
  FaceWorld world;
  std::string image(int n) const { return q(part_b() / "images" / ("IMG_" + std::to_string(n) + ".jpg")); }
};

TEST_F(CrowdCommandTest, StoresImageMapsRecordAndAudit) {
  fs::path png = world.dir.path() / "gate.png";
  auto r = world.cli_json("crowd " + image(1) + " --location main-gate --at 2026-03-02T08:30:00Z --density-map " + q(png));
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["location"], "main-gate");
  EXPECT_EQ(r["timestamp"], "2026-03-02T08:30:00.000Z");
  EXPECT_EQ(r["width"], 1024);
  EXPECT_EQ(r["densityMap"]["width"], 128);
  EXPECT_EQ(r["densityMap"]["height"], 96);
  cv::Mat heat = cv::imread(png.string());
  EXPECT_EQ(heat.cols, 1024);
  EXPECT_EQ(heat.rows, 768);

  auto records = world.documents("crowdcounts");
  ASSERT_EQ(records.size(), 1u);
  const auto& rec = records[0];
  EXPECT_EQ(rec["location"], "main-gate");
  EXPECT_DOUBLE_EQ(rec["count"].get<double>(), r["count"].get<double>());
  EXPECT_EQ(rec["modelVersion"], r["modelVersion"]);
  EXPECT_NE(rec["modelVersion"].get<std::string>().find("crowd_density@"), std::string::npos);
  EXPECT_EQ(rec["archived"], false);

  // The three files, of the right kinds; the raw map is the density whose sum is the count.
  auto db = Database::open(DataDir::open(world.data()), std::string(kDefaultDatabase));
  auto tx = db->read();
  auto kind_of = [&](const char* field) {
    auto info = file_info(tx, rec[field]["$oid"].get<std::string>());
    return info ? info->to_json()["metadata"]["kind"].get<std::string>() : std::string("missing");
  };
  EXPECT_EQ(kind_of("imageFileId"), "crowd_image");
  EXPECT_EQ(kind_of("densityMapFileId"), "density_map");
  EXPECT_EQ(kind_of("heatmapFileId"), "density_map");
  std::string raw = get_file(tx, rec["densityMapFileId"]["$oid"].get<std::string>());
  cv::Mat cells = cv::imdecode(std::vector<uchar>(raw.begin(), raw.end()), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(cells.type(), CV_32F);
  EXPECT_EQ(cells.size(), cv::Size(128, 96));
  EXPECT_NEAR(cv::sum(cells)[0], rec["count"].get<double>(), 0.06);
  std::string stored_png = get_file(tx, rec["heatmapFileId"]["$oid"].get<std::string>());
  EXPECT_EQ(stored_png, read_text(png));
  EXPECT_EQ(get_file(tx, rec["imageFileId"]["$oid"].get<std::string>()), read_text(part_b() / "images" / "IMG_1.jpg"));

  auto audits = world.documents("auditlogs");
  ASSERT_EQ(audits.size(), 1u);
  EXPECT_EQ(audits[0]["action"], "crowd.analyze");
  EXPECT_EQ(audits[0]["target"], "main-gate");
  EXPECT_EQ(audits[0]["details"]["crowdCountId"], rec["_id"]["$oid"]);
}

TEST_F(CrowdCommandTest, ListAndSummaryPerLocationAndPeriod) {
  struct Shot {
    int image;
    const char *location, *at;
  } shots[] = {{1, "gate", "2026-03-02T08:10:00Z"},
               {2, "gate", "2026-03-02T08:50:00Z"},
               {3, "gate", "2026-03-02T09:20:00Z"},
               {4, "hall", "2026-03-02T08:30:00Z"},
               {5, "gate", "2026-03-03T12:00:00Z"}};
  std::vector<double> counts;
  for (const auto& s : shots) {
    auto r = world.cli_json("crowd " + image(s.image) + " --location " + s.location + " --at " + s.at);
    counts.push_back(r["count"].get<double>());
  }
  auto day = world.cli_json("crowd list --location gate --from 2026-03-02 --to 2026-03-02T23:59:59Z");
  ASSERT_EQ(day.size(), 3u);
  EXPECT_DOUBLE_EQ(day[0]["count"].get<double>(), counts[0]);
  EXPECT_DOUBLE_EQ(day[2]["count"].get<double>(), counts[2]);
  EXPECT_EQ(world.cli_json("crowd list").size(), 5u);

  auto hourly = world.cli_json("crowd summary --location gate --by hour");
  ASSERT_EQ(hourly.size(), 3u);
  EXPECT_EQ(hourly[0]["periodStart"], "2026-03-02T08:00:00.000Z");
  EXPECT_EQ(hourly[0]["images"], 2);
  EXPECT_DOUBLE_EQ(hourly[0]["min"].get<double>(), std::min(counts[0], counts[1]));
  EXPECT_DOUBLE_EQ(hourly[0]["max"].get<double>(), std::max(counts[0], counts[1]));
  EXPECT_NEAR(hourly[0]["mean"].get<double>(), (counts[0] + counts[1]) / 2, 0.051);
  EXPECT_EQ(hourly[1]["periodStart"], "2026-03-02T09:00:00.000Z");

  auto daily = world.cli_json("crowd summary --by day");
  ASSERT_EQ(daily.size(), 3u);  // gate 03-02, gate 03-03, hall 03-02 (location, then time)
  EXPECT_EQ(daily[0]["location"], "gate");
  EXPECT_EQ(daily[0]["images"], 3);
  EXPECT_EQ(daily[2]["location"], "hall");

  auto text = world.cli("crowd summary --location nowhere");
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.err.find("no matching crowd counts"), std::string::npos);
  EXPECT_EQ(world.cli("crowd summary --by week").exit_code, 2);
  EXPECT_EQ(world.cli("crowd list --from yesterday").exit_code, 2);
}

TEST_F(CrowdCommandTest, BadInputsAreRefusedByNameAndNothingIsWritten) {
  fs::path dir = world.dir.path();
  world.cli_json("crowd " + image(1) + " --location gate");  // something to leave untouched
  size_t files = world.count("fs.files"), audits = world.count("auditlogs");
  write_text(dir / "text.jpg", "this is plain text, not a JPEG\n");
  write_text(dir / "empty.jpg", "");
  std::string jpeg = read_text(part_b() / "images" / "IMG_2.jpg");
  write_text(dir / "cut.jpg", jpeg.substr(0, jpeg.size() / 2));
  write_text(dir / "huge.png", huge_png(30000, 30000));
  struct Case {
    const char *file, *reason;
  } cases[] = {{"text.jpg", "not a supported image"},
               {"empty.jpg", "empty file (0 bytes)"},
               {"cut.jpg", "truncated JPEG"},
               {"huge.png", "megapixel"}};
  fs::path png = dir / "out.png";
  for (const auto& c : cases) {
    auto r = world.cli("crowd " + q(dir / c.file) + " --location gate --density-map " + q(png));
    EXPECT_EQ(r.exit_code, 3) << c.file << ": " << r.err;
    EXPECT_NE(r.err.find(c.file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.reason), std::string::npos) << r.err;
  }
  EXPECT_EQ(world.cli("crowd " + q(dir / "missing.jpg") + " --location gate").exit_code, 4);
  EXPECT_EQ(world.cli("crowd " + image(2) + " --location gate --density-map " + q(dir / "out.jpg")).exit_code, 2);
  EXPECT_EQ(world.cli("crowd " + image(2)).exit_code, 2);                       // no --location
  EXPECT_EQ(world.cli("crowd " + image(2) + " --location gate --at noon").exit_code, 2);
  auto tight = world.cli("crowd " + image(2) + " --location gate --max-megapixels 0.5");
  EXPECT_EQ(tight.exit_code, 3);
  EXPECT_NE(tight.err.find("megapixel"), std::string::npos) << tight.err;

  // Models missing, or the crowd model corrupted: a clear message, nothing written.
  fs::path models = dir / "models";
  fs::create_directories(models);
  for (const auto& e : fs::directory_iterator(face_models_dir()))
    if (e.is_regular_file()) fs::copy_file(e.path(), models / e.path().filename());
  fs::remove(models / "crowd_density.onnx");
  auto env = "FACECROWD_DATA=" + q(world.data()) + " FACECROWD_MODELS=" + q(models);
  auto missing = run_facecrowd("crowd " + image(2) + " --location gate", env);
  EXPECT_EQ(missing.exit_code, 4) << missing.err;
  EXPECT_NE(missing.err.find("crowd_density.onnx"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("prepare_models.sh"), std::string::npos) << missing.err;
  std::string model = read_text(face_models_dir() / "crowd_density.onnx");
  model[model.size() / 2] ^= 0x40;
  write_text(models / "crowd_density.onnx", model);
  auto corrupt = run_facecrowd("crowd " + image(2) + " --location gate", env);
  EXPECT_EQ(corrupt.exit_code, 3) << corrupt.err;
  EXPECT_NE(corrupt.err.find("sha256"), std::string::npos) << corrupt.err;

  EXPECT_FALSE(fs::exists(png));
  EXPECT_EQ(world.count("crowdcounts"), 1u);
  EXPECT_EQ(world.count("fs.files"), files);
  EXPECT_EQ(world.count("auditlogs"), audits);

  // Grey and transparent images are counted, not refused.
  cv::Mat scene = cv::imread((part_b() / "images" / "IMG_2.jpg").string());
  cv::Mat grey, rgba;
  cv::cvtColor(scene, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(scene, rgba, cv::COLOR_BGR2BGRA);
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < rgba.cols; ++x) rgba.at<cv::Vec4b>(y, x)[3] = 0;
  cv::imwrite((dir / "grey.png").string(), grey);
  cv::imwrite((dir / "alpha.png").string(), rgba);
  for (const char* f : {"grey.png", "alpha.png"}) {
    auto r = world.cli("crowd " + q(dir / f) + " --location gate --json");
    EXPECT_EQ(r.exit_code, 0) << f << ": " << r.err;
  }
  EXPECT_EQ(world.count("crowdcounts"), 3u);
}

// ---- evaluation ------------------------------------------------------------------------------------

TEST_F(CrowdCounterTest, EvaluationReportsErrorsPerImageOnTheHeldOutSplit) {
  auto names = read_validation_names(split_file(), "B");
  auto images = list_crowd_truth(part_b(), names);
  ASSERT_EQ(images.size(), names.size());
  CrowdEvalReport report = evaluate_crowd(*counter, images);
  ASSERT_EQ(report.rows.size(), images.size());
  double abs_sum = 0, sq_sum = 0, st = 0, sp = 0, stt = 0, spp = 0, stp = 0;
  for (const auto& row : report.rows) {
    auto points = nlohmann::json::parse(read_text(part_b() / "points" / (fs::path(row.image).stem().string() + ".json")));
    EXPECT_EQ(row.truth, double(points["count"].get<int>()));
    abs_sum += std::abs(row.predicted - row.truth);
    sq_sum += (row.predicted - row.truth) * (row.predicted - row.truth);
    st += row.truth, sp += row.predicted, stt += row.truth * row.truth, spp += row.predicted * row.predicted;
    stp += row.truth * row.predicted;
  }
  const double n = double(report.rows.size());
  EXPECT_NEAR(report.mae, abs_sum / n, 1e-9);
  EXPECT_NEAR(report.rmse, std::sqrt(sq_sum / n), 1e-9);
  // A working model follows the crowd from image to image (a constant or broken one does not).
  double r = (n * stp - st * sp) / std::sqrt((n * stt - st * st) * (n * spp - sp * sp));
  EXPECT_GT(r, 0.8) << report.text();
  EXPECT_LT(report.mae, 0.5 * report.mean_truth) << report.text();

  // The CLI on another set, with its CSV.
  fs::path india = crowd_data() / "street_india" / "train";
  auto india_names = read_validation_names(split_file(), "street_india");
  TempDir out;
  auto cli = run_facecrowd("eval crowd " + q(india) + " --split " + q(split_file()) + " --set street_india --csv " +
                               q(out.path() / "rows.csv") + " --json",
                           "FACECROWD_MODELS=" + q(face_models_dir()));
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  auto j = nlohmann::json::parse(cli.out);
  EXPECT_EQ(j["images"], india_names.size());
  EXPECT_EQ(j["perImage"].size(), india_names.size());
  std::string csv = read_text(out.path() / "rows.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), long(india_names.size() + 1));
  EXPECT_EQ(csv.rfind("image,true,predicted,error\n", 0), 0u);
  // The bias and the density buckets, consistent with the per-image rows.
  double err_sum = 0;
  for (const auto& row : j["perImage"]) err_sum += row["predicted"].get<double>() - row["true"].get<double>();
  EXPECT_NEAR(j["bias"].get<double>(), err_sum / double(india_names.size()), 0.01);
  ASSERT_EQ(j["byTrueCount"].size(), 4u);
  size_t bucketed = 0;
  for (const auto& b : j["byTrueCount"]) bucketed += b["images"].get<size_t>();
  EXPECT_EQ(bucketed, india_names.size());
  // Progress reaches stderr although it is not a terminal here: the first and the last image at least.
  const std::string total = "/" + std::to_string(india_names.size());
  EXPECT_NE(cli.err.find("counting images 1" + total), std::string::npos) << cli.err;
  EXPECT_NE(cli.err.find("counting images " + std::to_string(india_names.size()) + total), std::string::npos) << cli.err;
  auto quiet = run_facecrowd("--quiet eval crowd " + q(india) + " --split " + q(split_file()) + " --set street_india",
                             "FACECROWD_MODELS=" + q(face_models_dir()));
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("counting images"), std::string::npos) << quiet.err;
  EXPECT_NE(quiet.out.find("by true count"), std::string::npos) << quiet.out;
  EXPECT_NE(quiet.out.find("bias "), std::string::npos) << quiet.out;
}

TEST(CrowdEvaluation, SummaryGivesTheBiasAndTheErrorPerDensityBucket) {
  CrowdEvalReport report;
  // true, predicted: two sparse scenes (one over, one under), one mid, two dense undercounted, none over 1000
  for (auto [t, p] : std::vector<std::pair<double, double>>{{10, 14}, {49, 45}, {50, 60}, {200, 150}, {999, 899}})
    report.rows.push_back({"x.jpg", t, p, 1024, 768, 0.5});
  summarise_crowd_rows(report);
  EXPECT_NEAR(report.mae, (4 + 4 + 10 + 50 + 100) / 5.0, 1e-9);
  EXPECT_NEAR(report.bias, (4 - 4 + 10 - 50 - 100) / 5.0, 1e-9);
  ASSERT_EQ(report.buckets.size(), 4u);
  EXPECT_EQ(report.buckets[0].label, "0-50");
  EXPECT_EQ(report.buckets[0].images, 2u);  // 10 and 49; 50 belongs to the next bucket
  EXPECT_NEAR(report.buckets[0].mae, 4, 1e-9);
  EXPECT_NEAR(report.buckets[0].bias, 0, 1e-9);
  EXPECT_EQ(report.buckets[1].images, 1u);
  EXPECT_NEAR(report.buckets[1].bias, 10, 1e-9);
  EXPECT_EQ(report.buckets[2].images, 2u);
  EXPECT_NEAR(report.buckets[2].mae, 75, 1e-9);
  EXPECT_NEAR(report.buckets[2].bias, -75, 1e-9);
  EXPECT_EQ(report.buckets[3].label, "over 1000");
  EXPECT_EQ(report.buckets[3].images, 0u);
  const std::string text = report.text();
  EXPECT_NE(text.find("bias            -28.00"), std::string::npos) << text;
  EXPECT_NE(text.find("200-1000"), std::string::npos) << text;
  auto j = report.to_json();
  EXPECT_FALSE(j["byTrueCount"][3].contains("mae"));  // an empty bucket has no error, not an error of 0
  EXPECT_EQ(j["byTrueCount"][2]["maxTrueExclusive"], 1000);
}

TEST(CrowdCommandHelp, MarksTheLocationAsRequired) {
  auto help = run_facecrowd("crowd --help");
  ASSERT_EQ(help.exit_code, 0) << help.err;
  // The option's own line (the examples above it mention --location too).
  std::istringstream lines(help.out);
  std::string line, option_line;
  while (std::getline(lines, line))
    if (line.find_first_not_of(' ') != std::string::npos && line.compare(line.find_first_not_of(' '), 10, "--location") == 0) {
      option_line = line;
      break;
    }
  ASSERT_FALSE(option_line.empty()) << help.out;
  EXPECT_NE(option_line.find("REQUIRED"), std::string::npos) << option_line;
}

TEST(CrowdEvaluation, BadFoldersAndSplitsAreNamed) {
  TempDir dir;
  auto expect_error = [](auto fn, ExitCode code, const std::string& text) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  expect_error([&] { list_crowd_truth(dir.path()); }, ExitCode::kNotFound, "images");
  fs::create_directories(dir.path() / "images");
  fs::create_directories(dir.path() / "points");
  expect_error([&] { list_crowd_truth(dir.path()); }, ExitCode::kBadInput, "no images");
  cv::imwrite((dir.path() / "images" / "a.jpg").string(), cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(0)));
  expect_error([&] { list_crowd_truth(dir.path()); }, ExitCode::kBadInput, "a.json");
  write_text(dir.path() / "points" / "a.json", "{\"count\": ");
  expect_error([&] { list_crowd_truth(dir.path()); }, ExitCode::kBadInput, "not JSON");
  write_text(dir.path() / "points" / "a.json", "{\"image\": \"a.jpg\", \"points\": [[1, 2], [3, 4]]}");
  auto truth = list_crowd_truth(dir.path());
  ASSERT_EQ(truth.size(), 1u);
  EXPECT_EQ(truth[0].count, 2.0);
  expect_error([&] { list_crowd_truth(dir.path(), std::set<std::string>{"a.jpg", "b.jpg"}); }, ExitCode::kBadInput,
               "1 of the 2 selected images");

  write_text(dir.path() / "split.json", "{\"validation\": [\"A/IMG_1.jpg\", \"B/IMG_2.jpg\"]}");
  EXPECT_EQ(read_validation_names(dir.path() / "split.json", "B"), std::set<std::string>{"IMG_2.jpg"});
  expect_error([&] { read_validation_names(dir.path() / "split.json", "C"); }, ExitCode::kBadInput, "sets: A, B");
  expect_error([&] { read_validation_names(dir.path() / "nope.json", "A"); }, ExitCode::kNotFound, "nope.json");
}

}  // namespace
}  // namespace facecrowd
