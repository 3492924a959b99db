#include "backup/targets/multipart_journal.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"

namespace facecrowd {

fs::path MultipartJournal::record(const std::string& target, const std::string& key, const std::string& upload_id) const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw_io_error("cannot create the folder of interrupted-upload records", dir_, ec.value());
  // Named by what it records, so the same upload is never recorded twice under two names.
  fs::path file = dir_ / ("upload-" + sha256_hex(target + "\n" + key + "\n" + upload_id).substr(0, 24) + ".json");
  write_file_durably(file, nlohmann::json{{"target", target}, {"key", key}, {"upload_id", upload_id}}.dump() + "\n");
  return file;
}

void MultipartJournal::forget(const fs::path& file) const {
  std::error_code ec;
  fs::remove(file, ec);  // a record left behind only costs the next push one abort that finds nothing
}

std::vector<MultipartJournal::Entry> MultipartJournal::entries(std::vector<std::string>& unreadable) const {
  std::vector<Entry> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  for (const auto& item : fs::directory_iterator(dir_, ec)) {
    const fs::path& file = item.path();
    if (file.extension() != ".json" || file.filename().string().rfind("upload-", 0) != 0) continue;
    try {
      auto j = nlohmann::json::parse(read_file(file));
      Entry e{file, j.at("target").get<std::string>(), j.at("key").get<std::string>(), j.at("upload_id").get<std::string>()};
      if (e.target.empty() || e.key.empty() || e.upload_id.empty()) throw Error(ExitCode::kBadInput, "empty field");
      out.push_back(std::move(e));
    } catch (const std::exception& e) {
      unreadable.push_back("the interrupted-upload record '" + file.string() + "' cannot be read (" + e.what() +
                           "); it was left as it is: delete it once any upload it names is aborted");
    }
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.file < b.file; });
  return out;
}

}  // namespace facecrowd
