// `facecrowd crowd IMAGE --location L`, `crowd list`, `crowd summary`: head counts (app/crowd/crowd_counts.h).
#include <iomanip>
#include <iostream>

#include "app/crowd/crowd_counts.h"
#include "cli/command.h"
#include "cli/flag_values.h"
#include "core/error.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

struct QueryFlags {
  std::string db{kDefaultDatabase};
  std::string location, from, to;
  int64_t limit = 0;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--db", db, "database")->capture_default_str();
    cmd->add_option("--location", location, "only this location");
    cmd->add_option("--from", from, "only records at or after this ISO 8601 time");
    cmd->add_option("--to", to, "only records at or before this ISO 8601 time");
    cmd->add_option("--limit", limit, "at most this many rows (0: all)")->check(CLI::NonNegativeNumber);
  }
  CrowdQuery resolve() const {
    CrowdQuery q;
    if (!location.empty()) q.location = location;
    q.from = time_flag("--from", from);
    q.to = time_flag("--to", to);
    if (limit > 0) q.limit = limit;
    return q;
  }
};

void print_result(const CrowdResult& r) {
  std::cout << "count " << std::fixed << std::setprecision(1) << r.count << " people at " << r.location << " ("
            << r.width << "x" << r.height << ", " << r.tiles << (r.tiles == 1 ? " pass" : " tiles") << ", "
            << std::setprecision(2) << r.seconds << " s)\n"
            << "record " << r.id << "  image " << r.image_file_id << "  density map " << r.density_map_file_id
            << "  heat map " << r.heatmap_file_id << "\n";
}

void add_list(CLI::App* group, GlobalOptions& globals) {
  struct Options {
    QueryFlags query;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = group->add_subcommand("list",
                                    "List crowd counts in time order.\n\n"
                                    "Example:\n"
                                    "  facecrowd crowd list --location main-gate --from 2026-03-01 --to 2026-03-02");
  opts->query.add_to(cmd);
  cmd->add_flag("--json", opts->json, "print a JSON array (relaxed Extended JSON)");
  cmd->callback([opts, &globals] {
    CrowdQuery q = opts->query.resolve();
    auto database = Database::open(DataDir::open(globals.data_dir), opts->query.db, {.create_if_missing = false});
    auto tx = database->read();
    auto rows = list_crowdcounts(tx, q);
    if (opts->json) {
      std::cout << nlohmann::json(rows).dump(2) << "\n";
      return;
    }
    for (const auto& r : rows) {
      double count = r.contains("count") && r["count"].is_number() ? r["count"].get<double>() : 0;
      std::cout << field_text(r, "timestamp") << "  " << std::left << std::setw(20) << field_text(r, "location") << " "
                << std::right << std::setw(8) << std::fixed << std::setprecision(1) << count << "  "
                << field_text(r, "_id") << "  " << field_text(r, "modelVersion") << "\n";
    }
    if (rows.empty()) std::cerr << "no matching crowd counts\n";
  });
}

void add_summary(CLI::App* group, GlobalOptions& globals) {
  struct Options {
    QueryFlags query;
    std::string by = "hour";
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = group->add_subcommand(
      "summary",
      "Min, mean and max count per location and UTC hour or day (only periods with images).\n\n"
      "Example:\n"
      "  facecrowd crowd summary --location main-gate --by day --from 2026-03-01 --json");
  opts->query.add_to(cmd);
  cmd->add_option("--by", opts->by, "period: hour or day")->check(CLI::IsMember({"hour", "day"}))->capture_default_str();
  cmd->add_flag("--json", opts->json, "print a JSON array");
  cmd->callback([opts, &globals] {
    CrowdQuery q = opts->query.resolve();
    auto database = Database::open(DataDir::open(globals.data_dir), opts->query.db, {.create_if_missing = false});
    auto tx = database->read();
    auto rows = summarise_crowdcounts(tx, q, opts->by == "day" ? SummaryPeriod::kDay : SummaryPeriod::kHour);
    if (opts->json) {
      auto out = nlohmann::json::array();
      for (const auto& r : rows) out.push_back(to_json(r));
      std::cout << out.dump(2) << "\n";
      return;
    }
    if (!rows.empty()) std::cout << "period start              location              images      min     mean      max\n";
    for (const auto& r : rows) {
      std::cout << std::left << std::setw(26) << format_iso8601(r.period_start) << std::setw(20) << for_terminal(r.location)
                << std::right << std::setw(8) << r.images << std::fixed << std::setprecision(1) << std::setw(9)
                << r.min << std::setw(9) << r.mean << std::setw(9) << r.max << "\n";
    }
    if (rows.empty()) std::cerr << "no matching crowd counts\n";
  });
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    std::string image, location, at, density_map;
    double max_megapixels = vision::ImageLimits{}.max_megapixels;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "crowd",
      "Count the people in a crowd image and store the count with its density map.\n\n"
      "The model estimates a density map (expected heads per 8x8 pixels; tools/crowd/TRAINING.md); the count\n"
      "is its sum. Images are never downscaled: large ones are counted in 1024-pixel tiles with context, so a\n"
      "4K frame keeps its small heads and memory stays bounded. The image (fs.files kind crowd_image), the raw\n"
      "map (32-bit float TIFF, one pixel per cell), a heat-map PNG and a crowdcounts record are stored, with a\n"
      "crowd.analyze audit entry, in one transaction.\n\n"
      "Examples:\n"
      "  facecrowd crowd gate-0830.jpg --location main-gate --at 2026-03-02T08:30:00Z --density-map gate.png\n"
      "  facecrowd crowd hall.jpg --location hall-b --json\n"
      "  facecrowd crowd list --location main-gate --from 2026-03-02\n"
      "  facecrowd crowd summary --location main-gate --by hour");
  cmd->add_option("--db", opts->db, "database")->capture_default_str();
  cmd->add_option("IMAGE", opts->image, "the crowd image (JPEG, PNG, ...)");
  cmd->add_option("--location", opts->location,
                  "REQUIRED with an IMAGE: where it was taken (a gate, a hall); the history is kept per location");
  cmd->add_option("--at", opts->at, "when it was taken (ISO 8601; default now): the record's timestamp");
  cmd->add_option("--density-map", opts->density_map, "also write the heat map over the image to this .png");
  cmd->add_option("--max-megapixels", opts->max_megapixels, "refuse larger images before decoding them")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", opts->json, "print the result as JSON");
  add_list(cmd, globals);
  add_summary(cmd, globals);
  cmd->callback([opts, cmd, &globals] {
    if (!cmd->get_subcommands().empty()) return;  // `crowd list` / `crowd summary` ran
    if (opts->image.empty())
      throw Error(ExitCode::kUsage, "crowd: give an IMAGE and --location (or `crowd list` / `crowd summary`; see --help)");
    if (opts->location.empty()) throw Error(ExitCode::kUsage, "crowd: --location is required with an image");
    CrowdRequest request;
    request.image = opts->image;
    request.location = opts->location;
    request.taken_at = time_flag("--at", opts->at);
    if (!opts->density_map.empty()) request.heatmap_out = opts->density_map;
    request.limits.max_megapixels = opts->max_megapixels;
    auto counter = vision::CrowdCounter::open(explicit_models_dir(globals));
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db);
    std::function<void(int, int)> progress;
    if (show_progress(globals))
      progress = [](int done, int total) {
        if (total > 1) std::cerr << "\rcounting: tile " << done << "/" << total << (done == total ? "\n" : "") << std::flush;
      };
    CrowdResult result = analyse_crowd(*db, *counter, request, progress);
    if (opts->json) {
      std::cout << result.to_json().dump(2) << "\n";
      return;
    }
    print_result(result);
    if (request.heatmap_out) std::cout << "heat map written to " << request.heatmap_out->string() << "\n";
  });
});

}  // namespace
}  // namespace facecrowd
