// ComputeSlots: at most `capacity` requests run the face or crowd networks at once; the others wait in line,
// first come first served. On a machine of C cores, C requests that each use one core finish sooner, one
// after the other, than 4C requests sharing them (less cache and memory thrash, and a request's latency is
// its own work plus the line ahead of it, not everyone's work at once).
// A wait ends at the waiting thread's request deadline (core/request_deadline.h): acquire() then throws
// DeadlineExceeded naming the wait, and the request has computed and stored nothing. While turning away
// (a restore's swap), a wait ends at once with Error(kBusy): the request has done nothing yet and would
// only hold the swap up by its whole network pass (a server answers 503 with Retry-After).
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace facecrowd {

class ComputeSlots {
 public:
  // capacity <= 0: one slot per CPU core (std::thread::hardware_concurrency, at least 1).
  explicit ComputeSlots(int capacity);
  ComputeSlots(const ComputeSlots&) = delete;
  ComputeSlots& operator=(const ComputeSlots&) = delete;

  class Slot {
   public:
    explicit Slot(ComputeSlots* owner) : owner_(owner) {}
    Slot(Slot&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    ComputeSlots* owner_;
  };
  // Waits for a free slot (in arrival order) until this thread's request deadline, if any.
  Slot acquire();
  int capacity() const { return capacity_; }
  // From now until stop_turning_away(): every wait in line, and every new acquire(), ends with
  // Error(kBusy, `why`); the slots in use are not touched (their requests finish).
  void turn_away(const std::string& why);
  void stop_turning_away();
  // Requests waiting now (for health and tests).
  size_t waiting() const;

 private:
  void release();
  const int capacity_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int in_use_ = 0;
  uint64_t next_ticket_ = 0;
  std::deque<uint64_t> line_;
  bool turning_away_ = false;
  std::string turn_away_why_;
};

}  // namespace facecrowd
