#include "backup/archive_manifest.h"

#include "backup/archive_reader.h"
#include "core/error.h"
#include "core/files.h"

namespace facecrowd {
namespace {

class ManifestOnly : public MemberSink {
 public:
  explicit ManifestOnly(std::string label) : label_(std::move(label)) {}
  void begin_member(const std::string& path, uint64_t size) override {
    in_manifest_ = path == "manifest.json";
    if (in_manifest_ && size > kMaxManifestBytes)
      throw Error(ExitCode::kBadInput, label_ + ": manifest.json has " + std::to_string(size) +
                                           " bytes, more than the " + std::to_string(kMaxManifestBytes) +
                                           " a manifest may be");
  }
  void member_data(const char* data, size_t size) override {
    if (!in_manifest_) return;
    if (text_.size() + size > kMaxManifestBytes)
      throw Error(ExitCode::kBadInput, label_ + ": manifest.json is larger than " + std::to_string(kMaxManifestBytes) + " bytes");
    text_.append(data, size);
    seen_ = true;
  }
  void end_member() override {
    if (in_manifest_) seen_ = true;
    in_manifest_ = false;
  }
  bool seen() const { return seen_; }
  const std::string& text() const { return text_; }

 private:
  std::string label_;
  bool in_manifest_ = false, seen_ = false;
  std::string text_;
};

}  // namespace

Manifest read_archive_manifest(const std::filesystem::path& archive) {
  std::string label = "backup '" + archive.string() + "'";
  ManifestOnly sink(label);
  read_archive(archive, sink);
  if (!sink.seen()) throw Error(ExitCode::kBadInput, label + " has no manifest.json (a truncated or incomplete archive?)");
  return Manifest::parse(sink.text(), label + ", manifest.json");
}

std::filesystem::path manifest_copy_path(const std::filesystem::path& archive) {
  std::filesystem::path copy = archive;
  copy += ".manifest.json";
  return copy;
}

std::optional<Manifest> read_sidecar_manifest(const std::filesystem::path& archive, std::string* problem) {
  const std::filesystem::path sidecar = manifest_copy_path(archive);
  std::error_code ec;
  auto status = std::filesystem::status(sidecar, ec);
  if (!std::filesystem::exists(status)) return std::nullopt;
  auto refuse = [&](const std::string& why) -> std::optional<Manifest> {
    if (problem) *problem = "the manifest copy '" + sidecar.string() + "' is damaged (" + why + ")";
    return std::nullopt;
  };
  if (!std::filesystem::is_regular_file(status)) return refuse("not a regular file");
  auto size = std::filesystem::file_size(sidecar, ec);
  if (ec) return refuse(ec.message());
  if (size > kMaxManifestBytes) return refuse(std::to_string(size) + " bytes, larger than a manifest may be");
  try {
    return Manifest::parse(read_file(sidecar), sidecar.string());
  } catch (const Error& e) {
    return refuse(e.what());
  }
}

}  // namespace facecrowd
