#include "core/fault_file_system.h"

#include <cerrno>

#include "core/error.h"

namespace facecrowd {
namespace {

[[noreturn]] void fail(const std::string& what, const fs::path& path, int error) {
  throw_io_error(what + " (injected fault)", path, error);
}

class FaultWritableFile : public WritableFile {
 public:
  FaultWritableFile(FaultFileSystem& owner, std::unique_ptr<WritableFile> base)
      : owner_(owner), base_(std::move(base)) {}
  void append(const void* data, size_t size) override {
    uint64_t allowance = size;
    if (const FaultRule* rule = owner_.match(FaultOp::kWrite, path(), written_, size, &allowance)) {
      if (allowance > 0) base_->append(data, size_t(allowance));
      written_ += allowance;
      if (rule->error == 0) fail("cannot write (short write)", path(), ENOSPC);
      fail("cannot write", path(), rule->error);
    }
    base_->append(data, size);
    written_ += size;
  }
  void sync() override {
    if (auto* rule = owner_.match(FaultOp::kSync, path())) fail("cannot fsync", path(), rule->error);
    base_->sync();
  }
  void close() override {
    if (auto* rule = owner_.match(FaultOp::kClose, path())) fail("cannot close", path(), rule->error);
    base_->close();
  }
  const fs::path& path() const override { return base_->path(); }

 private:
  FaultFileSystem& owner_;
  std::unique_ptr<WritableFile> base_;
  uint64_t written_ = 0;
};

}  // namespace

void FaultFileSystem::add(FaultRule rule) {
  std::lock_guard lock(mu_);
  rules_.push_back(std::move(rule));
}

int FaultFileSystem::fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

const FaultRule* FaultFileSystem::match(FaultOp op, const fs::path& path, uint64_t written, uint64_t size,
                                        uint64_t* allowance) {
  std::lock_guard lock(mu_);
  for (auto& rule : rules_) {
    if (rule.op != op || rule.times == 0) continue;
    if (!rule.path_contains.empty() && path.string().find(rule.path_contains) == std::string::npos) continue;
    if (op == FaultOp::kWrite) {
      if (written + size <= rule.after_bytes) continue;
      if (allowance) *allowance = rule.after_bytes > written ? rule.after_bytes - written : 0;
    }
    if (rule.times > 0) --rule.times;
    ++fired_;
    return &rule;
  }
  return nullptr;
}

std::unique_ptr<WritableFile> FaultFileSystem::open_writable(const fs::path& path, OpenMode mode) {
  if (auto* rule = match(FaultOp::kCreate, path)) fail("cannot create", path, rule->error);
  return std::make_unique<FaultWritableFile>(*this, base_.open_writable(path, mode));
}

void FaultFileSystem::create_dirs(const fs::path& dir) {
  if (auto* rule = match(FaultOp::kCreateDir, dir)) fail("cannot create folder", dir, rule->error);
  base_.create_dirs(dir);
}

void FaultFileSystem::rename(const fs::path& from, const fs::path& to) {
  if (auto* rule = match(FaultOp::kRename, to)) fail("cannot rename '" + from.string() + "' to", to, rule->error);
  base_.rename(from, to);
}

bool FaultFileSystem::remove(const fs::path& path) {
  if (auto* rule = match(FaultOp::kRemove, path)) fail("cannot remove", path, rule->error);
  return base_.remove(path);
}

void FaultFileSystem::sync_path(const fs::path& path) {
  if (auto* rule = match(FaultOp::kSync, path)) fail("cannot fsync", path, rule->error);
  base_.sync_path(path);
}

}  // namespace facecrowd
