#include "backup/offsite/index_auth.h"

#include <sodium.h>

#include <algorithm>

#include "core/error.h"
#include "core/files.h"

namespace facecrowd {
namespace {

constexpr const char* kAuthField = "auth";
constexpr const char* kMemoryFile = "offsite-index-signed.json";

bool is_lower_hex(const std::string& s, size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string sequence_text(uint64_t sequence) { return "sequence " + std::to_string(sequence); }

// Where "auth" holds the tag: a MAC's "tag", a signature's "signature".
const char* tag_field(const std::string& alg) { return alg == KeyRing::kIndexSignature ? "signature" : "tag"; }

std::string hex_of(const std::string& binary) {
  std::string out(binary.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(binary.data()), binary.size());
  out.pop_back();
  return out;
}

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

IndexText signed_index_text(nlohmann::json j, const KeyRing* keys) {
  j.erase(kAuthField);
  if (!keys) return {j.dump(1) + "\n", ""};
  // With keys, the canonical bytes themselves are the file ("auth" added as the last member when signed), so
  // the index is serialized once: a week of minute slices is ~6 MB of JSON, and an indented copy as well
  // cost a push ~25 ms more.
  IndexText out{canonical_bytes(j), ""};
  const std::string digest = digest_of(out.text);
  if (auto tag = keys->index_tag(digest)) {
    nlohmann::json auth = {{"alg", tag->alg}, {"key_id", tag->key_id}, {tag_field(tag->alg), tag->tag}};
    out.text.pop_back();  // the object's closing brace
    out.text += ",\"" + std::string(kAuthField) + "\":" + auth.dump() + "}";
    out.digest = hex_of(digest);
  }
  out.text += "\n";
  return out;
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
  const auto alg = a.value("alg", nlohmann::json());
  if (alg != KeyRing::kIndexMac && alg != KeyRing::kIndexSignature)
    throw refuse("alg is neither \"" + std::string(KeyRing::kIndexMac) + "\" nor \"" + KeyRing::kIndexSignature + "\"");
  const std::string field = tag_field(alg.get<std::string>());
  const size_t tag_length = 2 * (alg == KeyRing::kIndexMac ? crypto_auth_BYTES : crypto_sign_BYTES);
  const auto key_id = a.value("key_id", nlohmann::json()), tag = a.value(field, nlohmann::json());
  if (!key_id.is_string() || !is_lower_hex(key_id.get<std::string>(), 32)) throw refuse("key_id is not a key id (32 hex digits)");
  if (!tag.is_string() || !is_lower_hex(tag.get<std::string>(), tag_length))
    throw refuse(field + " is not " + std::to_string(tag_length) + " hex digits");
  seal.tag = KeyRing::IndexTag{alg.get<std::string>(), key_id.get<std::string>(), tag.get<std::string>()};
  j.erase(kAuthField);
  seal.digest = index_canonical_digest(j);
  return seal;
}

nlohmann::json IndexAuthentication::to_json() const {
  return {{"status", status}, {"key_id", key_id}, {"checked_with", checked_with}, {"sequence", sequence}, {"updated_at", updated_at},
          {"warning", warning}};
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
  // A tag under a key the push cannot check, on a write-only target whose pair was replaced: handled below as
  // an index without one (index_auth.h).
  bool foreign_signature = false;
  if (seal.tag) {
    result.key_id = seal.tag->key_id;
    const bool signature = seal.tag->alg == KeyRing::kIndexSignature;
    auto check = keys ? keys->check_index_tag(seal.digest, *seal.tag) : KeyRing::TagCheck::kKeyNotGiven;
    const KeyRing* checker = keys;
    if (check == KeyRing::TagCheck::kKeyNotGiven && trust.own_signing_key) {
      const auto own = trust.own_signing_key->check_index_tag(seal.digest, *seal.tag);
      if (own != KeyRing::TagCheck::kKeyNotGiven) check = own, checker = trust.own_signing_key.get();
    }
    if (check == KeyRing::TagCheck::kMismatch)
      throw Error(ExitCode::kBadInput, what + " fails authentication: its " + (signature ? "signature" : "tag") + " under key " +
                                           seal.tag->key_id + " does not match its contents, so it was changed by someone without the " +
                                           (signature ? "signing key" : "key") +
                                           " (e.g. archives, oplog slices or erasure ledger chunks dropped)" + nothing + put_back);
    if (check == KeyRing::TagCheck::kKeyNotGiven) {
      if (trust.pushing && trust.last_signed && trust.last_signed->digest == hex_of(seal.digest)) {
        result.status = "authenticated";  // exactly the index this machine wrote last
        result.checked_with = "the digest of the index this machine wrote last";
        return result;
      }
      const bool replaced_pair = trust.pushing && keys && !keys->holds_symmetric_key() && keys->holds_index_verify_key();
      if (!replaced_pair && keys && (keys->holds_symmetric_key() || keys->holds_index_verify_key())) {
        const auto ids = keys->key_ids();
        if (std::find(ids.begin(), ids.end(), seal.tag->key_id) != ids.end())  // held, but it cannot check this kind of tag
          throw Error(ExitCode::kBadInput,
                      what + (signature ? " is signed by write-only key pair " + seal.tag->key_id +
                                              ", but the private key file given for it holds no index verify key (no `index-verify-key` "
                                              "line: a copy of its first line only?): give the whole file `facecrowd target keygen "
                                              "--write-only` wrote" + nothing
                                        : " carries a keyed target's tag under key " + seal.tag->key_id +
                                              ", which is a write-only key pair (whose index is signed, never tagged so): someone who "
                                              "can write the bucket made it" + nothing + put_back));
        throw Error(ExitCode::kBadInput,
                    what + " is authenticated with key " + seal.tag->key_id + ", which is not among the keys given (" +
                        keys->keys_given(signature) + "): " +
                        (signature ? "give the private key file of the write-only key pair that signed it (after a pair is replaced, "
                                     "give both: --key-file NEW --key-file OLD), or it was signed by someone else's pair"
                                   : "give that key file (after a key rotation the older keys stay in key_files: "
                                     "`facecrowd target set TARGET --encryption key --key-file NEW --key-file OLD`)") +
                        nothing);
      }
      if (!replaced_pair) {
        result.status = "unchecked";
        result.warning = what + " carries an authentication " + (signature ? "signature" : "tag") + " under key " + seal.tag->key_id +
                         " that was not checked: no key file or passphrase was given. To check it, give " +
                         (signature ? "the private key file of the write-only key pair (kept offline) with --key-file, or run this on "
                                      "the server that pushes (its configured public_key_file signs the index)"
                                    : "the target's key file with --key-file (or its passphrase in $FACECROWD_BACKUP_PASSPHRASE)");
        return result;
      }
      foreign_signature = true;
    } else {
      if (trust.last_signed && index.sequence < trust.last_signed->sequence)
        throw Error(ExitCode::kBadInput, what + " is an older copy (" + sequence_text(index.sequence) + ", written " + index.updated_at +
                                             ") than the one this machine last wrote (" + sequence_text(trust.last_signed->sequence) +
                                             "): it was put back by someone who can write the bucket, to forget what came after it" +
                                             nothing +
                                             ". Put back the newest version of index.json (the bucket's object versioning keeps it), and "
                                             "change the bucket's credentials");
      result.status = "authenticated";
      result.checked_with = checker->index_key_source(*seal.tag);
      return result;
    }
  }
  if (trust.last_signed)
    throw Error(ExitCode::kBadInput, what + (foreign_signature ? " is signed under key " + seal.tag->key_id +
                                                                     ", which this server does not hold, and is not the index this "
                                                                     "machine last wrote ("
                                                               : std::string(" carries no authentication tag, but this machine wrote it signed (")) +
                                         sequence_text(trust.last_signed->sequence) + "): " +
                                         (foreign_signature ? "someone who can write the bucket signed it with a pair of their own"
                                                            : "the tag was stripped by someone who can write the bucket") +
                                         nothing + put_back);
  const bool verify_key_given = keys && keys->holds_index_verify_key() && !trust.pushing;
  const bool keyed = index.encryption == "key" || index.encryption == "passphrase" || trust.tagged_config || verify_key_given;
  if (keyed && (trust.allow_unauthenticated || trust.pushing)) {
    result.status = "unauthenticated-allowed";
    result.warning = !trust.pushing ? what + " carries no authentication tag; it was used anyway (--allow-unauthenticated-index)"
                     : foreign_signature
                         ? what + " is signed under key " + seal.tag->key_id +
                               ", which this server does not hold (was the write-only key pair replaced?): this push signs it under its own"
                         : what + " had no authentication tag (written by a facecrowd older than this one, or under a write-only key "
                                  "pair without an index signing key): this push signs it";
    return result;
  }
  if (keyed)
    throw Error(ExitCode::kBadInput,
                what + " carries no authentication tag, but " +
                    (index.encryption == "key" || index.encryption == "passphrase"
                         ? "the target is encrypted with a key (" + index.encryption + ")"
                     : trust.tagged_config ? std::string("the target is encrypted with a key (by this machine's configuration)")
                                           : std::string("the private key file given holds an index verify key, so the write-only "
                                                         "target's server signs its index")) +
                    ": either someone who can write the bucket stripped it (to hide an edit), or a facecrowd older than this one "
                    "wrote it" + nothing + ". An older index gets its tag at the next `facecrowd backup` or `facecrowd oplog ship` "
                    "that this version runs on the machine that backs up; to restore from it as it is, once you trust it, add "
                    "--allow-unauthenticated-index");
  result.status = trust.allow_unauthenticated ? "unauthenticated-allowed" : "not-authenticated";
  result.warning = what + " is not authenticated: the target is " +
                   (index.encryption == "public-key"
                        ? std::string("write-only (public-key) and no index verify key was given (the private key file of a pair "
                                      "`facecrowd target keygen --write-only` made before index signing holds none: a new pair signs "
                                      "the index)")
                        : std::string("plaintext")) +
                   ", and whoever can write the bucket could drop archives, oplog slices or erasure ledger chunks from it unnoticed";
  return result;
}

IndexTrust push_trust(const fs::path& backup_dir, const std::string& target_url, const KeyRing* keys) {
  IndexTrust trust;
  trust.tagged_config = keys && (keys->holds_symmetric_key() || keys->holds_index_verify_key());
  trust.pushing = true;
  trust.last_signed = last_signed_index(backup_dir, target_url);
  return trust;
}

IndexTrust read_trust(bool keyed_config, const fs::path& backup_dir, const std::string& target_url) {
  IndexTrust trust;
  trust.tagged_config = keyed_config;
  trust.last_signed = last_signed_index(backup_dir, target_url);
  return trust;
}

std::optional<SignedIndex> last_signed_index(const fs::path& backup_dir, const std::string& target_url) {
  const fs::path file = backup_dir / kMemoryFile;
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(read_file(file));
    if (!j.contains(target_url)) return std::nullopt;
    const auto& entry = j.at(target_url);
    return SignedIndex{entry.at("sequence").get<uint64_t>(), entry.value("digest", std::string())};
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::kBadInput, "'" + file.string() + "' (the index sequences this machine signed) is malformed: " + e.what() +
                                         "; delete it to accept the target's index as it is");
  }
}

void remember_signed_index(const fs::path& backup_dir, const std::string& target_url, const SignedIndex& written) {
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
  j[target_url] = {{"sequence", written.sequence}, {"digest", written.digest}};
  write_file_durably(file, j.dump(1) + "\n");
}

}  // namespace facecrowd
