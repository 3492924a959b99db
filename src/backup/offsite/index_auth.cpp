#include "backup/offsite/index_auth.h"

#include <sodium.h>

#include <algorithm>

#include "core/error.h"
#include "core/files.h"

namespace facecrowd {
namespace {

constexpr const char* kAuthField = "auth";
constexpr const char* kAlgorithm = "hmac-sha512-256-blake2b";
constexpr const char* kMemoryFile = "offsite-index-signed.json";

bool is_lower_hex(const std::string& s, size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string sequence_text(uint64_t sequence) { return "sequence " + std::to_string(sequence); }

}  // namespace

namespace {

// nlohmann's objects keep their keys sorted, and dump() writes numbers and strings one way: the same JSON
// value always gives the same bytes, whichever indentation the file had.
std::string canonical_bytes(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains(kAuthField)) return j.dump();  // the usual case (both callers erased it): no copy
  nlohmann::json without = j;
  without.erase(kAuthField);
  return without.dump();
}

std::string digest_of(const std::string& canonical) {
  std::string digest(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(digest.data()), digest.size(),
                     reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), nullptr, 0);
  return digest;
}

}  // namespace

std::string index_canonical_digest(const nlohmann::json& j) { return digest_of(canonical_bytes(j)); }

std::string signed_index_text(nlohmann::json j, const KeyRing* keys) {
  j.erase(kAuthField);
  if (!keys) return j.dump(1) + "\n";
  // With keys, the canonical bytes themselves are the file ("auth" added as the last member when signed), so
  // the index is serialized once: a week of minute slices is ~6 MB of JSON, and an indented copy as well
  // cost a push ~25 ms more.
  std::string text = canonical_bytes(j);
  if (auto tag = keys->index_tag(digest_of(text))) {
    nlohmann::json auth = {{"alg", kAlgorithm}, {"key_id", tag->key_id}, {"tag", tag->tag}};
    text.pop_back();  // the object's closing brace
    text += ",\"" + std::string(kAuthField) + "\":" + auth.dump() + "}";
  }
  return text + "\n";
}

IndexSeal take_index_seal(nlohmann::json& j, const std::string& what) {
  IndexSeal seal;
  // The digest (a serialization of the whole index) only when there is a tag to check it against.
  if (!j.is_object() || !j.contains(kAuthField)) return seal;  // from_json refuses a non-object, naming it
  const auto& a = j.at(kAuthField);
  auto refuse = [&](const std::string& why) -> Error {
    return Error(ExitCode::kBadInput, what + " is not a valid facecrowd index: auth " + why +
                                          "; it was damaged or edited, so nothing was downloaded or changed");
  };
  if (!a.is_object()) throw refuse("is not an object");
  if (a.value("alg", nlohmann::json()) != kAlgorithm) throw refuse("alg is not \"" + std::string(kAlgorithm) + "\"");
  const auto key_id = a.value("key_id", nlohmann::json()), tag = a.value("tag", nlohmann::json());
  if (!key_id.is_string() || !is_lower_hex(key_id.get<std::string>(), 32)) throw refuse("key_id is not a key id (32 hex digits)");
  if (!tag.is_string() || !is_lower_hex(tag.get<std::string>(), 2 * crypto_auth_BYTES)) throw refuse("tag is not 64 hex digits");
  seal.tag = KeyRing::IndexTag{key_id.get<std::string>(), tag.get<std::string>()};
  j.erase(kAuthField);
  seal.digest = index_canonical_digest(j);
  return seal;
}

nlohmann::json IndexAuthentication::to_json() const {
  return {{"status", status}, {"key_id", key_id}, {"sequence", sequence}, {"updated_at", updated_at}, {"warning", warning}};
}

IndexAuthentication authenticate_index(const IndexSeal& seal, const RemoteIndex& index, const KeyRing* keys,
                                       const IndexTrust& trust, const std::string& what) {
  IndexAuthentication result;
  result.sequence = index.sequence;
  result.updated_at = index.updated_at;
  const std::string nothing = "; nothing was downloaded or changed";
  const std::string put_back =
      ". Put back the last good version of index.json (the bucket's object versioning keeps it), and change the bucket's "
      "credentials: whoever wrote this one can write the bucket";
  if (seal.tag) {
    result.key_id = seal.tag->key_id;
    const auto check = keys ? keys->check_index_tag(seal.digest, *seal.tag) : KeyRing::TagCheck::kKeyNotGiven;
    if (check == KeyRing::TagCheck::kMismatch)
      throw Error(ExitCode::kBadInput, what + " fails authentication: its tag under key " + seal.tag->key_id +
                                           " does not match its contents, so it was changed by someone without the key "
                                           "(e.g. archives, oplog slices or erasure ledger chunks dropped)" + nothing + put_back);
    if (check == KeyRing::TagCheck::kKeyNotGiven) {
      if (keys && keys->holds_symmetric_key()) {
        std::string have;
        for (const auto& k : keys->key_ids()) have += (have.empty() ? "" : ", ") + k;
        throw Error(ExitCode::kBadInput, what + " is authenticated with key " + seal.tag->key_id +
                                             ", which is not among the keys given (" + have +
                                             "): give that key file (after a key rotation the older keys stay in key_files: "
                                             "`facecrowd target set TARGET --encryption key --key-file NEW --key-file OLD`)" + nothing);
      }
      result.status = "unchecked";
      result.warning = what + " carries an authentication tag under key " + seal.tag->key_id +
                       " that was not checked: no key file or passphrase was given";
      return result;
    }
    if (trust.signed_sequence && index.sequence < *trust.signed_sequence)
      throw Error(ExitCode::kBadInput, what + " is an older copy (" + sequence_text(index.sequence) + ", written " + index.updated_at +
                                           ") than the one this machine last wrote (" + sequence_text(*trust.signed_sequence) +
                                           "): it was put back by someone who can write the bucket, to forget what came after it" +
                                           nothing +
                                           ". Put back the newest version of index.json (the bucket's object versioning keeps it), and "
                                           "change the bucket's credentials");
    result.status = "authenticated";
    return result;
  }
  if (trust.signed_sequence)
    throw Error(ExitCode::kBadInput, what + " carries no authentication tag, but this machine wrote it signed (" +
                                         sequence_text(*trust.signed_sequence) + "): the tag was stripped by someone who can "
                                         "write the bucket" + nothing + put_back);
  const bool keyed = index.encryption == "key" || index.encryption == "passphrase" || trust.keyed_config;
  if (keyed && (trust.allow_unauthenticated || trust.pushing)) {
    result.status = "unauthenticated-allowed";
    result.warning = trust.pushing ? what + " had no authentication tag (written by a facecrowd older than this one): this push signs it"
                                   : what + " carries no authentication tag; it was used anyway (--allow-unauthenticated-index)";
    return result;
  }
  if (keyed)
    throw Error(ExitCode::kBadInput,
                what + " carries no authentication tag, but the target is encrypted with a key (" +
                    (index.encryption.empty() ? std::string("by this machine's configuration") : index.encryption) +
                    "): either someone who can write the bucket stripped it (to hide an edit), or a facecrowd older than this one "
                    "wrote it" + nothing + ". An older index gets its tag at the next `facecrowd backup` or `facecrowd oplog ship` "
                    "that this version runs on the machine that backs up; to restore from it as it is, once you trust it, add "
                    "--allow-unauthenticated-index");
  result.status = trust.allow_unauthenticated ? "unauthenticated-allowed" : "not-authenticated";
  result.warning = what + " is not authenticated: the target is " +
                   (index.encryption == "public-key" ? std::string("write-only (public-key), so the server holds no secret a restore shares")
                                                     : std::string("plaintext")) +
                   ", and whoever can write the bucket could drop archives, oplog slices or erasure ledger chunks from it unnoticed";
  return result;
}

std::optional<uint64_t> signed_sequence(const fs::path& backup_dir, const std::string& target_url) {
  const fs::path file = backup_dir / kMemoryFile;
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(read_file(file));
    if (!j.contains(target_url)) return std::nullopt;
    return j.at(target_url).at("sequence").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::kBadInput, "'" + file.string() + "' (the index sequences this machine signed) is malformed: " + e.what() +
                                         "; delete it to accept the target's index as it is");
  }
}

void remember_signed_sequence(const fs::path& backup_dir, const std::string& target_url, uint64_t sequence) {
  const fs::path file = backup_dir / kMemoryFile;
  nlohmann::json j = nlohmann::json::object();
  std::error_code ec;
  if (fs::exists(file, ec)) {
    try {
      j = nlohmann::json::parse(read_file(file));
    } catch (const nlohmann::json::exception&) {
      j = nlohmann::json::object();  // rewritten whole below
    }
  }
  j[target_url] = {{"sequence", sequence}};
  write_file_durably(file, j.dump(1) + "\n");
}

}  // namespace facecrowd
