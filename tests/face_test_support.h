// Shared by the face tests (enrollment, attendance): where the models and photos are, a data directory
// with the CLI environment to use it, and reads of what the commands wrote.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "store/database.h"
#include "test_support.h"

namespace facecrowd {

inline fs::path face_models_dir() { return fs::path(FACECROWD_SOURCE_DIR) / "models"; }
inline fs::path faces_dir() {
  fs::path d = shared_data_dir();
  return d.empty() ? d : d / "faces";
}
// Empty when the models and photos are there; else why the test is skipped.
inline std::string face_skip_reason() {
  if (faces_dir().empty() || !fs::is_directory(faces_dir() / "identities")) return "shared data (../shared/data/faces) not present";
  if (!fs::exists(face_models_dir() / "SHA256SUMS"))
    return "face models not prepared in " + face_models_dir().string() + " (tools/prepare_models.sh)";
  return "";
}
inline std::string q(const fs::path& p) { return "'" + p.string() + "'"; }
inline std::string identity(const std::string& person, const std::string& file) {
  return q(faces_dir() / "identities" / person / file);
}
inline std::string group(const std::string& file) { return q(faces_dir() / "groups" / file); }

// A fresh data directory; cli(args) runs facecrowd on it with the prepared models.
struct FaceWorld {
  TempDir dir;
  fs::path data() const { return dir.path() / "data"; }
  CommandResult cli(const std::string& args) const {
    return run_facecrowd(args, "FACECROWD_DATA=" + q(data()) + " FACECROWD_MODELS=" + q(face_models_dir()));
  }
  nlohmann::json cli_json(const std::string& args) const {
    auto r = cli(args + " --json");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  }
  // Every document of `collection` as relaxed Extended JSON.
  std::vector<nlohmann::json> documents(const std::string& collection) const {
    std::vector<nlohmann::json> out;
    if (!fs::exists(data())) return out;
    auto db = Database::open(DataDir::open(data()), std::string(kDefaultDatabase));
    auto tx = db->read();
    tx.find(collection, Query{}, [&](const Document& d) {
      out.push_back(d.to_json());
      return true;
    });
    return out;
  }
  size_t count(const std::string& collection) const { return documents(collection).size(); }
};

}  // namespace facecrowd
