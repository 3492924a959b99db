#include "app/restore_gate.h"

namespace facecrowd {

bool RestoreGate::try_enter() {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  ++inside_;
  return true;
}

void RestoreGate::leave() {
  std::lock_guard lock(mutex_);
  if (--inside_ == 0) drained_.notify_all();
}

bool RestoreGate::close_and_drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (closed_) return false;
  closed_ = true;
  if (!drained_.wait_for(lock, timeout, [&] { return inside_ == 0; })) {
    closed_ = false;
    return false;
  }
  return true;
}

void RestoreGate::open() {
  std::lock_guard lock(mutex_);
  closed_ = false;
}

bool RestoreGate::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace facecrowd
