// `facecrowd attendance list`: attendance records by session, person or time (app/faces/attendance.h).
#include <iomanip>
#include <iostream>

#include "app/faces/attendance.h"
#include "cli/command.h"
#include "cli/flag_values.h"
#include "core/error.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    std::string session, person, from, to;
    int64_t limit = 0;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* group = app.add_subcommand("attendance", "Attendance records (made by `facecrowd recognize`)");
  group->require_subcommand(1);
  auto* list = group->add_subcommand(
      "list",
      "List attendance records in time order; filters combine.\n\n"
      "Examples:\n"
      "  facecrowd attendance list --session class-7A-2026-03-02\n"
      "  facecrowd attendance list --person EMP-0042 --from 2026-03-01 --to 2026-03-31 --json");
  list->add_option("--db", opts->db, "database")->capture_default_str();
  list->add_option("--session", opts->session, "only this session");
  list->add_option("--person", opts->person, "only this person: profile id, external id or exact name");
  list->add_option("--from", opts->from, "only records at or after this ISO 8601 time");
  list->add_option("--to", opts->to, "only records at or before this ISO 8601 time");
  list->add_option("--limit", opts->limit, "at most this many (0: all)")->capture_default_str()->check(CLI::NonNegativeNumber);
  list->add_flag("--json", opts->json, "print a JSON array (relaxed Extended JSON)");
  list->callback([opts, &globals] {
    AttendanceQuery q;
    if (!opts->session.empty()) q.session = opts->session;
    if (!opts->person.empty()) q.person = opts->person;
    q.from = time_flag("--from", opts->from);
    q.to = time_flag("--to", opts->to);
    if (opts->limit > 0) q.limit = opts->limit;
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db, {.create_if_missing = false});
    auto tx = db->read();
    auto rows = list_attendance(tx, q);
    if (opts->json) {
      std::cout << nlohmann::json(rows).dump(2) << "\n";
      return;
    }
    for (const auto& r : rows) {
      double confidence = r.contains("confidence") && r["confidence"].is_number() ? r["confidence"].get<double>() : 0;
      std::cout << field_text(r, "timestamp") << "  " << std::left << std::setw(24) << field_text(r, "session") << std::setw(24)
                << field_text(r, "personName") << " " << field_text(r, "personId") << "  " << std::fixed << std::setprecision(2)
                << confidence << "\n";
    }
    if (rows.empty()) std::cerr << "no matching attendance records\n";
  });
});

}  // namespace
}  // namespace facecrowd
