#include "core/compute_slots.h"

#include <algorithm>
#include <thread>

#include "core/error.h"
#include "core/request_deadline.h"

namespace facecrowd {

ComputeSlots::ComputeSlots(int capacity)
    : capacity_(capacity > 0 ? capacity : std::max(1, int(std::thread::hardware_concurrency()))) {}

ComputeSlots::Slot::~Slot() {
  if (owner_) owner_->release();
}

ComputeSlots::Slot ComputeSlots::acquire() {
  std::unique_lock lock(mutex_);
  const uint64_t ticket = next_ticket_++;
  line_.push_back(ticket);
  auto my_turn = [&] { return turning_away_ || (in_use_ < capacity_ && line_.front() == ticket); };
  const auto deadline = request_deadline();
  if (!deadline) {
    changed_.wait(lock, my_turn);
  } else if (!changed_.wait_until(lock, *deadline, my_turn)) {
    line_.erase(std::find(line_.begin(), line_.end(), ticket));
    changed_.notify_all();  // the one behind may now be first
    lock.unlock();
    check_request_deadline("a free compute slot (the face and crowd networks were busy with earlier requests)");
    throw DeadlineExceeded("a free compute slot", std::chrono::milliseconds(0));  // not reached: the deadline passed
  }
  if (turning_away_) {
    line_.erase(std::find(line_.begin(), line_.end(), ticket));
    changed_.notify_all();
    throw Error(ExitCode::kBusy, turn_away_why_);
  }
  line_.pop_front();
  ++in_use_;
  changed_.notify_all();  // the next in line may fit in another free slot
  return Slot(this);
}

void ComputeSlots::turn_away(const std::string& why) {
  std::lock_guard lock(mutex_);
  turning_away_ = true;
  turn_away_why_ = why;
  changed_.notify_all();
}

void ComputeSlots::stop_turning_away() {
  std::lock_guard lock(mutex_);
  turning_away_ = false;
}

void ComputeSlots::release() {
  {
    std::lock_guard lock(mutex_);
    --in_use_;
  }
  changed_.notify_all();
}

size_t ComputeSlots::waiting() const {
  std::lock_guard lock(mutex_);
  return line_.size();
}

}  // namespace facecrowd
