#include "backup/offsite/target_take_over.h"

#include "backup/offsite/index_auth.h"
#include "backup/offsite/offsite_store.h"
#include "backup/offsite/push_lock.h"
#include "core/error.h"
#include "core/files.h"

namespace facecrowd {

nlohmann::json TakeOverResult::to_json() const {
  return {{"target", target},
          {"previous_writer", previous ? previous->to_json() : nlohmann::json(nullptr)},
          {"writer", writer.to_json()},
          {"already_the_writer", already}};
}

TakeOverResult take_over_target(const fs::path& backup_dir, BackupTarget& target, const TargetConfig& config) {
  // Not waiting, as a push does: a push that hangs would hang the take-over without a word. A refused
  // take-over leaves neither the lock file nor a backup directory it made (push_lock.h).
  auto lock = PushLock::try_lock(backup_dir);
  if (!lock)
    throw Error(ExitCode::kBusy, "a push or take-over from backup directory '" + backup_dir.string() + "' is running (it holds '" +
                                     (backup_dir / PushLock::kFile).string() + "'); nothing was changed: run the take-over "
                                     "again when it has finished");
  OffsiteStore store(target, backup_dir);
  TakeOverResult result;
  result.target = target.url();
  std::optional<RemoteIndex> read = store.read_index();
  if (!read) {
    // A folder that does not exist is more likely a mistyped --target (or a target not mounted) than a new one.
    std::error_code ec;
    if (!is_remote_target_name(target.url()) && !fs::exists(target.url(), ec))
      throw Error(ExitCode::kNotFound, "backup target '" + target.url() + "' has no " + RemoteIndex::kKey + ": the folder '" +
                                           fs::absolute(target.url(), ec).lexically_normal().string() +
                                           "' does not exist (a mistyped --target, or a disk that is not mounted?), so there is no "
                                           "writer to take over from; nothing was written. Give --target the folder the old server "
                                           "pushed to (`facecrowd backups list --target FOLDER` shows its writer)");
    throw Error(ExitCode::kNotFound, "backup target '" + target.url() + "' has no " + RemoteIndex::kKey +
                                         ", so no writer to take over from; nothing was written. The next `facecrowd backup` "
                                         "claims it (and refuses it when it holds objects without an index)");
  }
  RemoteIndex& index = *read;
  auto keys = keys_for_upload(config, index);  // fails closed: the index is signed as a push signs it
  const IndexTrust trust = push_trust(backup_dir, target.url(), keys.get());
  store.authenticate_index(index, keys.get(), trust);
  const WriterIdentity me = writer_identity(backup_dir);
  result.previous = index.writer;
  if (is_writer(index, me)) {
    result.writer = *index.writer;
    result.already = true;
    return result;
  }
  index.writer = result.writer = writer_entry(me);
  if (trust.last_signed) index.sequence = std::max(index.sequence, trust.last_signed->sequence);
  result.warnings = store.write_index(index, keys.get());
  if (trust.tagged_config) remember_signed_index(backup_dir, target.url(), {index.sequence, store.written_index_digest()});
  // Two take-overs at once (two stand-bys made writers in the same seconds): the later write wins and both
  // would say they write the target. Read back: the one whose write is not there is told, not left to find
  // out at its first push. (Two writes that both land before either reads back still both pass: If-Match,
  // writer_fence.h, would close that.)
  std::optional<RemoteIndex> now = store.read_index_again();
  if (!now || !is_writer(*now, me))
    throw Error(ExitCode::kConflict,
                "the take-over of backup target '" + target.url() + "' was written, but index.json was written again right after it (" +
                    (!now ? std::string("it is gone") : now->writer ? "it now names " + describe_writer(*now->writer) : std::string("it names no writer")) +
                    "): another take-over or push at the same moment won. This backup directory is not the target's writer; `facecrowd "
                    "backups list --target " + target.url() + "` shows which is. Take over again only once that machine no longer pushes");
  return result;
}

}  // namespace facecrowd
