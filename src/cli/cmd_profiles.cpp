// `facecrowd profiles list|show|update`: the face profiles' non-biometric fields (app/faces/profiles.h).
#include <iomanip>
#include <iostream>

#include "app/faces/profiles.h"
#include "app/faces/soft_enrolled_face.h"
#include "cli/command.h"
#include "core/display_text.h"
#include "core/error.h"
#include "core/number_text.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

std::string text(const nlohmann::json& j) {
  if (j.is_null()) return "-";
  if (j.is_string()) return for_terminal(j.get<std::string>());  // a stored ESC or newline stays one plain line
  if (j.is_object() && j.contains("$date")) return text(j["$date"]);
  return j.dump();
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    std::string ref, name, external_id, consent;
    bool clear_external_id = false, withdraw = false, json = false;
    std::vector<std::string> meta, unset_meta;
  };
  auto opts = std::make_shared<Options>();
  auto* group = app.add_subcommand("profiles", "Face profiles: list, show, update (enrol faces with `facecrowd enroll`)");
  group->require_subcommand(1);

  auto* list = group->add_subcommand("list", "List profiles by name: id, external id, embeddings, images, consent");
  list->add_option("--db", opts->db, "database")->capture_default_str();
  list->add_flag("--json", opts->json, "print a JSON array");
  list->callback([opts, &globals] {
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db, {.create_if_missing = false});
    auto tx = db->read();
    auto rows = list_profiles(tx);
    if (opts->json) {
      std::cout << rows.dump(2) << "\n";
      return;
    }
    // Soft as recognition would judge it now (the selected model's steps and the FACECROWD_MATCH_* environment).
    // A malformed variable is recognize's error to report; the list still shows, by the model's defaults.
    MatchPolicy policy = default_match_policy(selected_face_model(globals));
    try {
      policy = resolve_match_policy(std::nullopt, std::nullopt, selected_face_model(globals));
    } catch (const Error&) {
    }
    bool any_soft = false;
    std::cout << std::left << std::setw(26) << "id" << std::setw(28) << "name" << std::setw(16) << "external id"
              << std::right << std::setw(11) << "embeddings" << std::setw(8) << "images" << "  consent"
              << "  softest face\n";
    for (const auto& r : rows) {
      std::string softest = "-";
      if (r["softestSharpness"].is_number()) {
        float sharpness = r["softestSharpness"].get<float>();
        softest = fixed_decimals(sharpness, 1);
        if (auto soft = soft_enrolled_face(policy, sharpness, text(r["name"]))) {
          softest += " (soft: matched within " + fixed_decimals(soft->threshold, 3) + ")";
          any_soft = true;
        }
      }
      std::cout << std::left << std::setw(26) << text(r["id"]) << std::setw(28) << text(r["name"]) << std::setw(16)
                << text(r["externalId"]) << std::right << std::setw(11) << r["embeddings"].get<int64_t>()
                << std::setw(8) << r["facialImages"].get<int64_t>() << "  " << std::left << std::setw(7)
                << (r["consent"].get<bool>() ? "yes" : "no") << "  " << softest << "\n";
    }
    if (any_soft)
      std::cerr << "soft: a face enrolled from a soft photo is matched only at a closer distance, so some photos of "
                   "that person come back unknown (enrolled-face-too-blurred); enrol a sharper photo of them\n";
    if (rows.empty()) std::cerr << "no profiles yet: enrol one with `facecrowd enroll --name NAME PHOTO`\n";
  });

  auto* show = group->add_subcommand(
      "show", "Show one profile (by id or external id) as JSON; vectors are elided, attendance records counted");
  show->add_option("--db", opts->db, "database")->capture_default_str();
  show->add_option("PROFILE", opts->ref, "profile id or external id")->required();
  show->callback([opts, &globals] {
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db, {.create_if_missing = false});
    auto tx = db->read();
    std::cout << show_profile(tx, opts->ref).dump(2) << "\n";
  });

  auto* update = group->add_subcommand(
      "update",
      "Change a profile's name, external id, metadata or consent (faces: `facecrowd enroll --profile`).\n"
      "Writes a profile.update audit entry.\n\n"
      "Examples:\n"
      "  facecrowd profiles update 65f0c2… --name 'Ada Obi-Okafor' --meta class=8A --unset-meta club\n"
      "  facecrowd profiles update EMP-0042 --withdraw-consent");
  update->add_option("--db", opts->db, "database")->capture_default_str();
  update->add_option("PROFILE", opts->ref, "profile id or external id")->required();
  update->add_option("--name", opts->name, "new name");
  update->add_option("--external-id", opts->external_id, "new external id");
  update->add_flag("--clear-external-id", opts->clear_external_id, "remove the external id");
  update->add_option("--meta", opts->meta, "set metadata key=value (repeatable)");
  update->add_option("--unset-meta", opts->unset_meta, "remove a metadata key (repeatable)");
  update->add_option("--consent", opts->consent, "record consent given now, with this text");
  update->add_flag("--withdraw-consent", opts->withdraw, "record that consent was withdrawn (consent: null)");
  update->add_flag("--json", opts->json, "print the updated profile as JSON");
  update->callback([opts, &globals] {
    ProfileUpdate u;
    if (!opts->name.empty()) u.name = opts->name;
    if (!opts->external_id.empty()) u.external_id = opts->external_id;
    if (opts->clear_external_id) u.external_id = "";
    for (const auto& m : opts->meta) u.set_metadata.insert(parse_meta_assignment(m));
    u.unset_metadata = opts->unset_meta;
    if (!opts->consent.empty()) u.consent_text = opts->consent;
    u.withdraw_consent = opts->withdraw;
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db, {.create_if_missing = false});
    auto updated = update_profile(*db, opts->ref, u);
    if (opts->json) std::cout << updated.dump(2) << "\n";
    else std::cout << "updated profile " << text(updated["_id"].is_object() ? updated["_id"]["$oid"] : updated["_id"])
                   << " '" << text(updated["name"]) << "'\n";
  });
});

}  // namespace
}  // namespace facecrowd
