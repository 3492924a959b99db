// The multipart uploads a push has started and not yet completed or aborted, one small JSON file each in
// a folder (<backup dir>/.offsite-uploads/). A push killed in the middle of a multipart upload (SIGKILL,
// Ctrl-C, power loss) cannot abort it, and its parts stay in the bucket: S3 keeps and bills them until the
// upload is aborted, and nothing ever lists them for an operator. The file is written (durably) before the
// first part goes and deleted once the upload is completed or aborted, so what the folder holds at the
// start of the next push is exactly what a killed run left; S3Target::abort_interrupted_uploads aborts it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace facecrowd {

namespace fs = std::filesystem;

class MultipartJournal {
 public:
  struct Entry {
    fs::path file;
    std::string target;     // the target's URL (s3://bucket/prefix): another target's entries are left alone
    std::string key;        // the object's full key in the bucket
    std::string upload_id;
  };
  explicit MultipartJournal(fs::path dir) : dir_(std::move(dir)) {}
  const fs::path& dir() const { return dir_; }
  // Records an upload before its first part; returns the file to forget() it by.
  fs::path record(const std::string& target, const std::string& key, const std::string& upload_id) const;
  void forget(const fs::path& file) const;
  // Every recorded upload; `unreadable` gets a line for each file that is not one this class wrote.
  std::vector<Entry> entries(std::vector<std::string>& unreadable) const;

 private:
  fs::path dir_;
};

}  // namespace facecrowd
