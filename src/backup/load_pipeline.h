// Overlaps reading a backup with loading it: one thread decompresses, hashes and validates (the reader,
// producer) while the calling thread writes SQLite (the consumer). Restore spends about half its time on
// each side, so on two cores the two halves run side by side instead of one after the other.
//
// Contract: run(produce, on_clear, on_document) calls `produce(pipeline)` on a worker thread; everything
// the producer pushes reaches `on_clear` / `on_document` on the calling thread, in push order. Memory is
// bounded (a few batches of about 2 MiB). An exception on either side stops both and is rethrown by run()
// (the consumer's first, else the producer's); run() returns only after the worker has ended.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace facecrowd {

class LoadPipeline {
 public:
  using ClearFn = std::function<void(const std::string& collection)>;
  using DocumentFn = std::function<void(const std::string& collection, const uint8_t* doc, size_t size, int64_t index)>;

  // Producer side (worker thread). Throw if the consumer has failed, so the producer unwinds.
  void push_clear(const std::string& collection);
  void push_document(const std::string& collection, const uint8_t* doc, size_t size, int64_t index);

  void run(const std::function<void(LoadPipeline&)>& produce, const ClearFn& on_clear, const DocumentFn& on_document);

 private:
  struct Item {
    bool clear = false;
    std::string collection;
    size_t offset = 0, size = 0;  // into Batch::bytes
    int64_t index = 0;
  };
  struct Batch {
    std::vector<Item> items;
    std::string bytes;
  };
  void hand_over();  // moves the current batch into the queue, waiting while it is full

  Batch current_;
  std::deque<Batch> queue_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool producer_done_ = false;
  bool consumer_failed_ = false;
};

}  // namespace facecrowd
