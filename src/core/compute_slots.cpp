#include "core/compute_slots.h"

#include <algorithm>
#include <thread>

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
  auto my_turn = [&] { return in_use_ < capacity_ && line_.front() == ticket; };
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
  line_.pop_front();
  ++in_use_;
  changed_.notify_all();  // the next in line may fit in another free slot
  return Slot(this);
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
