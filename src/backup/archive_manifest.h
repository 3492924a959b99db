// The manifest inside an archive, read without restoring anything: the authoritative copy, used when
// the `<archive>.manifest.json` cache beside it is missing, damaged or disagrees with the archive's name
// (manifest.h: the copy is a cache, the member is authoritative).
//
// The manifest is the archive's last member, so this decompresses the whole archive (checking the gzip
// and tar layers as read_archive() does) but skips every other member's contents; it costs one
// decompression, no sha256 and no database work, and runs before a restore takes its lock.
// Errors: Error(kBadInput) naming the archive when it is damaged or holds no manifest.json;
// Error(kNotFound) when it does not exist.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "backup/manifest.h"

namespace facecrowd {

Manifest read_archive_manifest(const std::filesystem::path& archive);

// Where an archive's manifest copy lies: `<archive>.manifest.json`, beside it.
std::filesystem::path manifest_copy_path(const std::filesystem::path& archive);

// The sidecar `<archive>.manifest.json` parsed and checked like the member (size bound first). nullopt
// when there is none; `problem` (when given) receives why a present copy was refused.
std::optional<Manifest> read_sidecar_manifest(const std::filesystem::path& archive, std::string* problem = nullptr);

}  // namespace facecrowd
