// The restore gate: how a long-running process lets a restore swap the store under it safely.
// Contract: every request that uses the store enters the gate first (try_enter) and leaves when done. A
// restore closes the gate — from then on try_enter() refuses (the caller answers 503 with Retry-After) —
// waits until every request inside has left (drain), swaps the store, and opens the gate again. Nothing
// inside the gate ever sees a half-swapped store; nothing outside touches it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace facecrowd {

class RestoreGate {
 public:
  // False while a restore holds the gate closed.
  bool try_enter();
  void leave();
  // Closes the gate and waits for every request inside to leave. False (gate left open) when another
  // restore holds it already, or when the requests inside do not leave within `timeout`.
  bool close_and_drain(std::chrono::milliseconds timeout);
  void open();
  bool closed() const;

  // Holds one entry; leaves at destruction.
  class Pass {
   public:
    explicit Pass(RestoreGate* gate) : gate_(gate) {}
    Pass(Pass&& other) noexcept : gate_(other.gate_) { other.gate_ = nullptr; }
    Pass(const Pass&) = delete;
    Pass& operator=(Pass&& other) noexcept {
      if (this != &other) {
        if (gate_) gate_->leave();
        gate_ = other.gate_;
        other.gate_ = nullptr;
      }
      return *this;
    }
    ~Pass() {
      if (gate_) gate_->leave();
    }

   private:
    RestoreGate* gate_;
  };

 private:
  mutable std::mutex mutex_;
  std::condition_variable drained_;
  int inside_ = 0;
  bool closed_ = false;
};

}  // namespace facecrowd
