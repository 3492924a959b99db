#include "backup/offsite/writer_fence.h"

#include <unistd.h>

#include <cerrno>

#include "backup/offsite/index_entry_json.h"
#include "core/display_text.h"
#include "core/error.h"
#include "core/files.h"
#include "core/random_hex.h"
#include "core/utc_time.h"

namespace facecrowd {
namespace {

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || !name[0] || has_control_character(name)) return "unknown-host";
  return name;
}

}  // namespace

nlohmann::json WriterIdentity::to_json() const { return {{"id", id}, {"host", host}, {"created", created}}; }

std::optional<WriterIdentity> read_writer_identity(const fs::path& backup_dir) {
  const fs::path file = backup_dir / WriterIdentity::kFile;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(file, ec))) return std::nullopt;
  auto damaged = [&](const std::string& why) -> Error {
    return Error(ExitCode::kBadInput,
                 "the off-site writer identity '" + file.string() + "' is damaged (" + why +
                     "), so this backup directory cannot tell whether it is the one that writes its backup targets; "
                     "nothing was uploaded or changed. If this machine is the one that should write the target, delete "
                     "the file and run `facecrowd target take-over`, which gives this backup directory a new identity "
                     "and makes it the target's writer (only once no other machine pushes there)");
  };
  // Not followed: a link makes two backup directories one writer (the fence's whole point lost, unseen).
  if (!fs::is_regular_file(fs::symlink_status(file, ec))) throw damaged("it is not a regular file");
  // Read whole, so bounded: the file this code writes is about 100 bytes.
  const auto size = fs::file_size(file, ec);
  if (!ec && size > WriterIdentity::kMaxBytes)
    throw damaged("it is " + std::to_string(size) + " bytes, more than the " + std::to_string(WriterIdentity::kMaxBytes) + " an identity can be");
  const std::string text = read_file(file);  // kIo naming the file when unreadable
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw damaged(text.empty() ? "it is empty" : "it is not JSON");
  }
  if (!j.is_object() || !j.contains("id") || !j.at("id").is_string()) throw damaged("it has no \"id\" string");
  WriterIdentity me{j.at("id").get<std::string>(), j.value("host", std::string()), j.value("created", std::string())};
  if (!index_entries::is_hex(me.id, 32)) throw damaged("its id " + index_entries::shown_value(me.id) + " is not 32 hex digits");
  return me;
}

WriterIdentity writer_identity(const fs::path& backup_dir) {
  if (auto me = read_writer_identity(backup_dir)) return *me;
  WriterIdentity me{random_hex(16), this_host(), format_iso8601(now_millis())};
  write_file_durably(backup_dir / WriterIdentity::kFile, me.to_json().dump(2) + "\n");
  return me;
}

bool is_writer(const RemoteIndex& index, const std::optional<WriterIdentity>& me) {
  return index.writer && me && index.writer->id == me->id;
}

std::string describe_writer(const IndexWriter& w) {
  return "host " + index_entries::shown_value(w.host) + ", writer id " + w.id + ", the writer since " + w.since;
}

std::string take_over_command(const std::string& target_url) { return "facecrowd target take-over --target " + target_url; }

std::string writer_status(const RemoteIndex& index, const std::optional<WriterIdentity>& me, const std::string& target_url) {
  if (!index.writer) return "no writer recorded (written by a facecrowd before writers were recorded, or never pushed): the next push claims the target";
  if (is_writer(index, me)) return describe_writer(*index.writer) + " (this backup directory)";
  return describe_writer(*index.writer) + " (another backup directory: pushes from this one are refused there; once that machine "
         "no longer pushes, `" + take_over_command(target_url) + "` makes this one the writer)";
}

std::optional<WriterIdentity> writer_identity_if_readable(const fs::path& backup_dir) {
  try {
    return read_writer_identity(backup_dir);
  } catch (const Error&) {
    return std::nullopt;
  }
}

void refuse_other_writer(const RemoteIndex& index, const fs::path& backup_dir, const std::string& target_url) {
  const std::optional<WriterIdentity> me = read_writer_identity(backup_dir);
  if (!index.writer || is_writer(index, me)) return;
  throw Error(ExitCode::kConflict,
              "backup target '" + target_url + "' is written by another machine (" + describe_writer(*index.writer) +
                  "), not by this backup directory '" + backup_dir.string() + "'" +
                  (me ? " (writer id " + me->id + ")"
                      : " (which has no writer identity: '" + (backup_dir / WriterIdentity::kFile).string() +
                            "' does not exist, because it never pushed, or the file was deleted" +
                            (index.writer->host == this_host() ? "; the writer named is on this host: if it is this backup directory, "
                                                                 "the take-over below makes it the writer again" : "") + ")") +
                  ": nothing was uploaded or deleted. Two machines pushing to one target overwrite each other's objects and "
                  "can delete what the other's index names, which leaves the target unrestorable. If that machine is retired "
                  "or lost (or this one, restored from the target, now replaces it), make this one the writer with `" +
                  take_over_command(target_url) + "`; otherwise send this machine's backups to another prefix "
                  "(`facecrowd target set s3://BUCKET/OTHER-PREFIX`)");
}

void refuse_index_written_meanwhile(const std::optional<RemoteIndex>& now, std::optional<uint64_t> expected_sequence,
                                    const std::string& target_url) {
  if (now.has_value() == expected_sequence.has_value() && (!now || now->sequence == *expected_sequence)) return;
  std::string by = !now ? "it was deleted" : now->writer ? "it now names " + describe_writer(*now->writer) + ", sequence " + std::to_string(now->sequence)
                                                         : "sequence " + std::to_string(now->sequence) + ", no writer named";
  throw Error(ExitCode::kConflict,
              "the index.json of backup target '" + target_url + "' was written by someone else while this push was sending (" + by +
                  "): a take-over, or a second machine pushing to this target. This push did not write the index (it would have "
                  "put back what it read and dropped what that write recorded); the objects it sent are named by nothing. If "
                  "this machine should write the target, run `" + take_over_command(target_url) + "` once no other machine pushes there");
}

IndexWriter writer_entry(const WriterIdentity& me) { return {me.id, this_host(), format_iso8601(now_millis())}; }

}  // namespace facecrowd
