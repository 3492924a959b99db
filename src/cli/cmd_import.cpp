// `facecrowd import`: a plain mongodump of the old Node.js + MongoDB system into a new or empty data
// directory (app/import/import_mongodump.h).
#include <iomanip>
#include <iostream>

#include "app/import/import_mapping.h"
#include "app/import/import_mongodump.h"
#include "cli/command.h"
#include "core/error.h"
#include "store/generation_build.h"

namespace facecrowd {
namespace {

void print_report(const ImportReport& r) {
  std::cout << (r.dry_run ? "dry run: would import " : "imported ") << r.source << " (" << r.shape << ", database "
            << r.source_db << ", mapping " << r.mapping << ")\n";
  for (const auto& c : r.collections) {
    std::cout << "  " << std::left << std::setw(16) << c.source << std::right;
    if (c.as.empty()) std::cout << " -> (not imported)";
    else std::cout << " -> " << std::left << std::setw(13) << c.as << std::right;
    std::cout << std::setw(9) << c.documents << " documents, " << c.imported << (r.dry_run ? " map cleanly" : " imported")
              << ", " << c.refused << " refused\n";
    if (!c.legacy_fields.empty()) {
      std::cout << "      kept under legacy:";
      for (const auto& [f, n] : c.legacy_fields) std::cout << " " << f << " (" << n << ")";
      std::cout << "\n";
    }
    for (const auto& [why, n] : c.refusals) std::cout << "      refused " << n << ": " << why << "\n";
    for (const auto& e : c.refused_examples) std::cout << "        e.g. " << e << "\n";
    size_t shown = 0;
    for (const auto& note : c.notes) {
      if (++shown > 5) {
        std::cout << "      (" << c.notes.size() - 5 << " more notes: --json lists them)\n";
        break;
      }
      std::cout << "      note: " << note << "\n";
    }
  }
  std::cout << "  files: " << r.files_imported << " GridFS files (" << r.files_md5_checked << " md5 checked, "
            << r.files_deduplicated << " duplicates stored once)\n";
  std::cout << "  embeddings: " << r.embedding_decision << "; " << r.profiles_with_descriptors << " profiles with descriptors, "
            << r.profiles_with_images << " with images; checked " << r.sample_checked << " (largest distance " << std::fixed
            << std::setprecision(3) << r.sample_max_distance << ")";
  if (r.sample_without_face) std::cout << ", " << r.sample_without_face << " sampled without a usable face";
  std::cout << "; " << r.embeddings_imported << " descriptors used, " << r.embeddings_computed << " embeddings computed from "
            << r.profiles_reembedded << " profiles' images\n";
  for (const auto& f : r.flagged) std::cout << "  flagged profile " << f.id << " '" << f.name << "': " << f.reason << "\n";
  if (!r.ignored.empty()) {
    std::cout << "  ignored files in the dump:";
    for (const auto& i : r.ignored) std::cout << " " << i;
    std::cout << "\n";
  }
  for (const auto& w : r.warnings) std::cout << "  warning: " << w << "\n";
  std::cout << "  " << r.documents_read << " documents read, " << r.documents_imported << (r.dry_run ? " would be imported" : " imported")
            << " in " << std::setprecision(1) << r.seconds << " s ("
            << std::setprecision(0) << (r.seconds > 0 ? double(r.documents_read) / r.seconds : 0.0) << " documents/s)\n";
  if (r.dry_run) {
    std::cout << "  nothing was written\n";
  } else {
    if (!r.killed_build_removed.empty())
      std::cout << "  " << killed_build_removed_note(r.killed_build_removed) << "\n";
    std::cout << "  audit entry " << r.audit_id << "; now:";
    for (const auto& [c, n] : r.counts_after) std::cout << " " << c << " " << n;
    std::cout << "\n";
  }
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string input, mapping, source_db, staging;
    bool dry_run = false, json = false, print_mapping = false;
    int sample = 20;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "import",
      "Import the old system's mongodump into a new or empty data directory: a plain mongodump of the Node.js +\n"
      "MongoDB system (`mongodump --db face-recognition --out DIR`, with or without --gzip, often packed with\n"
      "`tar -czf`) into a NEW or EMPTY data directory: users (bcrypt\n"
      "hashes kept: they log in with their old passwords, upgraded to argon2id at that login), face profiles and\n"
      "their descriptors, attendances, crowd counts, audit logs, and the GridFS files (md5 checked, sha256 stored).\n"
      "DUMP is a .tar.gz (or any tar), the dump's folder, a `mongodump --archive` file (plain or --gzip), or - for\n"
      "either stream on stdin. A mapping (JSON) says\n"
      "which old field fills which facecrowd field; fields it does not name are kept under `legacy`. Run with\n"
      "--dry-run first: per collection it shows what maps cleanly, what is kept under legacy and what is refused\n"
      "and why; nothing is written. Descriptors are checked against facecrowd's face model on a sample of the\n"
      "profiles' stored images (they must agree within 0.1); otherwise profiles are re-embedded from their images.\n"
      "A profile with neither is imported and flagged. The import is built beside the data directory's live\n"
      "generation and swapped in only when complete and checked, with an audit entry saying what came from where.\n"
      "Exit codes: 0 everything imported, 1 imported with refused documents or flagged profiles (read the report),\n"
      "3 bad dump or mapping, 5 the data directory already holds data, 7 busy.\n"

      "Examples:\n"
      "  facecrowd import backup_face-recognition_20240103_010000.tar.gz --dry-run\n"
      "  facecrowd --data /srv/facecrowd import backup_face-recognition_20240103_010000.tar.gz\n"
      "  facecrowd import --print-mapping > mapping.json   # edit, then: facecrowd import DUMP --mapping mapping.json\n"
      "  ssh old-server 'tar -cz -C /backup/mongodb dump' | facecrowd import -\n"
      "  ssh old-server 'mongodump --db face-recognition --archive --gzip' | facecrowd import -\n"
      "  facecrowd import ./dump --source-db attendance-app   # a dump of another database name");
  cmd->add_option("DUMP", opts->input, "ARCHIVE.tar.gz | FOLDER | FILE.archive[.gz] | - (stdin)");
  cmd->add_option("--mapping", opts->mapping, "mapping JSON file (default: the built-in one; see --print-mapping)");
  cmd->add_option("--source-db", opts->source_db, "the dump's database to import (default: the mapping's \"db\", face-recognition)");
  cmd->add_flag("--dry-run", opts->dry_run, "read, map and check everything and report; write nothing");
  cmd->add_option("--check-sample", opts->sample, "profiles whose descriptors are checked against their images")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--staging", opts->staging,
                  "folder for the decompressed dump while importing (default: the system temp folder; needs about the "
                  "dump's uncompressed size)");
  cmd->add_flag("--print-mapping", opts->print_mapping, "print the default mapping (JSON) and exit");
  cmd->add_flag("--json", opts->json, "print the report as JSON");
  cmd->callback([opts, &globals] {
    if (opts->print_mapping) {
      std::cout << default_import_mapping_text();
      return;
    }
    if (opts->input.empty()) throw Error(ExitCode::kUsage, "import: name the dump (ARCHIVE.tar.gz, FOLDER or -); see --help");
    ImportOptions options;
    options.input = opts->input;
    if (!opts->mapping.empty()) options.mapping_file = opts->mapping;
    options.source_db = opts->source_db;
    options.dry_run = opts->dry_run;
    options.check_sample = opts->sample;
    options.staging_parent = opts->staging;
    options.models_dir = explicit_models_dir(globals);
    options.face_model = selected_face_model(globals);
    if (show_progress(globals)) options.progress = [](const std::string& line) { std::cerr << line << "\n"; };
    ImportReport r = import_mongodump(globals.data_dir, options);
    if (opts->json) std::cout << r.to_json().dump(2) << "\n";
    else print_report(r);
    globals.exit_code = r.exit_code();
  });
});

}  // namespace
}  // namespace facecrowd
