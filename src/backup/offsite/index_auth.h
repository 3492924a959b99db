// Authentication of a target's index.json (issue 11). The objects are MAC'd by secretstream; the index that
// names them was not, so whoever could write the bucket without the key (leaked S3 credentials) could hand a
// restore a well-formed index that drops the newest archives or slices (records lost) or erasure ledger
// chunks (erased people back).
//
// A push to a target encrypted with a symmetric key (key file or passphrase) writes, inside index.json (one
// object, written at once, so it can never be seen out of step with what it covers):
//   "auth": {"alg": "hmac-sha512-256-blake2b", "key_id": <hex id of the key>, "tag": <hex>}
// tag = HMAC-SHA-512-256 (crypto_auth) of BLAKE2b-256(canonical bytes), keyed by a subkey derived from the
// target key (KeyRing::index_tag: crypto_kdf, never the data-encryption key itself). The canonical bytes are
// the index's JSON without "auth", serialized compactly with its keys in order (index_canonical_digest:
// the one function both sides use). The key id makes rotation work: an index written under an older key
// verifies with that key, a push writes under the current one. The index also carries "sequence", raised
// at every write, which the tag covers.
// A push to a write-only (public-key) target whose server file holds an index signing key (a pair `target
// keygen --write-only` made since index signing: object_crypto.h's format 2) writes instead
//   "auth": {"alg": "ed25519-blake2b", "key_id": <hex id of the pair's public key>, "signature": <128 hex>}
// an Ed25519 signature (crypto/index_signing.h) of the same digest; the offline private file holds the verify
// key, so a restore, verify or `backups list --target` given that file checks it, and then treats an index
// that is unsigned, signed by another pair, or whose signature does not hold, exactly as a keyed restore
// treats a missing or wrong tag (refused, exit 3, or used with --allow-unauthenticated-index when unsigned).
// Threat model, both kinds: what this stops is someone who can write the bucket but holds no key (leaked
// bucket credentials). A compromised SERVER holds the MAC key (keyed) or the signing key (write-only) and can
// authenticate any index it likes; write-only mode still keeps it from reading the backups, not from
// dropping them. Replacing a write-only pair: the old pair's objects still open with its private file (give
// both: --key-file NEW --key-file OLD); the index signed under the old pair verifies with the old file until
// the next push, which checks it as the index this machine wrote last (below: the server no longer holds
// the old signing key) and signs it under the new pair.
//
// Reading (authenticate_index), before anything in the index is trusted:
//   - a tag that does not match: Error(kBadInput) naming index.json, nothing downloaded or changed;
//   - a tag under a key that is not given while others are: Error(kBadInput) naming the key id;
//   - no tag on a target the index or this machine's configuration says is keyed: Error(kBadInput) (a
//     stripped tag, or an index from an older facecrowd: the remedy names the next push, which signs it,
//     and --allow-unauthenticated-index), except for a push, which accepts an index an older facecrowd wrote
//     and signs it (with a warning) unless this machine signed the target's index before (then a stripped tag);
//   - a machine that pushed remembers the sequence (and the digest) it last wrote per target
//     (<backup dir>/offsite-index-signed.json): an index with a lower sequence, or none with a tag, is an older
//     copy put back (replay): refused. A push whose key cannot check the index's tag or signature (a write-only
//     pair replaced: the server holds only the new signing key) believes the index that has exactly the digest
//     it last wrote; any other it refuses when it remembers writing one, and otherwise takes as it takes an
//     unsigned index an older facecrowd wrote (a warning; it signs it): a bucket attacker who could strip the
//     signature gains nothing by forging one under a pair the server does not hold.
//   - plaintext targets and write-only targets of a format 1 pair (no signing key: the server holds no
//     secret shared with the offline restorer): "not-authenticated", with a warning line and the field in
//     --json. Such an index (and a tagged index that could not be checked) is then believed only for objects
//     no bucket attacker can make:
//     OffsiteStore refuses to download an object encrypted with a symmetric key through it (a keyed target
//     whose index was edited to claim "public-key"), and a plaintext object when keys were given (a keyed
//     target replaced by plaintext forgeries), unless --allow-unauthenticated-index.
// What stays open: an index replayed to a restore on an empty machine (it has no memory of sequences) goes
// back to that older index's state; a restore re-applies the ledger objects the index does not name
// (offsite_fetch.h's fetch_unindexed_ledger), so erasures are not lost that way, and `updated_at` (covered
// by the tag) is reported so the operator sees how old the index is.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "backup/crypto/object_crypto.h"
#include "backup/offsite/remote_index.h"

namespace facecrowd {

namespace fs = std::filesystem;

// What index.json carried, as read: its tag (if any) and the digest of its canonical bytes.
struct IndexSeal {
  std::optional<KeyRing::IndexTag> tag;
  std::string digest;  // BLAKE2b-256 of the canonical bytes, binary; computed only when there is a tag
};

// BLAKE2b-256 of `j`'s canonical bytes (`j` without "auth", compact, keys in order).
std::string index_canonical_digest(const nlohmann::json& j);
// The text of index.json for `j`, with "auth" when `keys` can tag it (KeyRing::index_tag: a symmetric key or
// a write-only pair's signing key; compact then: the canonical bytes and "auth"; indented without keys), and
// the digest (hex) of its canonical bytes when it has "auth" (what a push remembers it wrote).
struct IndexText {
  std::string text, digest;
};
IndexText signed_index_text(nlohmann::json j, const KeyRing* keys);
// Takes "auth" out of `j` and returns the seal. Error(kBadInput) naming `what` when "auth" is malformed.
IndexSeal take_index_seal(nlohmann::json& j, const std::string& what);

// The index this machine last wrote with "auth" to a target.
struct SignedIndex {
  uint64_t sequence = 0;
  std::string digest;  // hex; empty in a memory written before digests were kept
};

// What the reader knows besides the index itself.
struct IndexTrust {
  // This machine's configuration (or keys) says the target's index carries "auth": "key" or "passphrase", or a
  // push to "public-key" with a signing key.
  bool tagged_config = false;
  bool allow_unauthenticated = false;  // --allow-unauthenticated-index
  bool pushing = false;                // a push: accepts (and then signs) an index an older facecrowd wrote
  std::optional<SignedIndex> last_signed;  // what this machine last signed for the target
  // A reader on the write-only target's server (`facecrowd verify --target` or `backups list --target` there):
  // the server's own index signing key (reader_trust, target_config.h). It checks a signature under its key id as a given
  // verify key would; an index that is unsigned or signed under another key is treated as if it were not
  // given (a stand-by or a replaced pair is not made to fail here: that is for the offline private file).
  std::shared_ptr<const KeyRing> own_signing_key;
};

struct IndexAuthentication {
  // "authenticated" | "not-authenticated" (write-only or plaintext target) | "unchecked" (a tag, but no
  // symmetric key given) | "unauthenticated-allowed" (no tag; --allow-unauthenticated-index, or a push
  // signing an older facecrowd's index)
  std::string status;
  std::string key_id;   // the tag's key
  std::string checked_with;  // "authenticated" by a tag or signature: the key that checked it (KeyRing::index_key_source)
  std::string warning;  // the line to print; empty when authenticated
  uint64_t sequence = 0;
  std::string updated_at;
  bool trusted() const { return status == "authenticated" || status == "unauthenticated-allowed"; }
  nlohmann::json to_json() const;
};

// What a push knows (and a take-over, which writes the index as a push does): it is pushing, what this
// machine last signed for the target, and that `keys` (keys_for_upload's) tag the index when they hold a
// symmetric key or a write-only pair's signing key.
IndexTrust push_trust(const fs::path& backup_dir, const std::string& target_url, const KeyRing* keys);
// What a reader knows (restore, verify, `backups list`): whether this machine's configuration of the target
// is keyed ("key" or "passphrase": its index must carry a tag), and what this machine last signed for it.
IndexTrust read_trust(bool keyed_config, const fs::path& backup_dir, const std::string& target_url);

// `what` names index.json in every refusal; `target_url` the target in warnings.
IndexAuthentication authenticate_index(const IndexSeal& seal, const RemoteIndex& index, const KeyRing* keys,
                                       const IndexTrust& trust, const std::string& what);

// <backup_dir>/offsite-index-signed.json: the sequence and digest this machine last signed per target URL.
std::optional<SignedIndex> last_signed_index(const fs::path& backup_dir, const std::string& target_url);
void remember_signed_index(const fs::path& backup_dir, const std::string& target_url, const SignedIndex& written);

}  // namespace facecrowd
