#include "backup/load_pipeline.h"

#include <thread>

namespace facecrowd {
namespace {
constexpr size_t kBatchBytes = 2 << 20;
constexpr size_t kMaxQueuedBatches = 2;

struct ConsumerFailed {};  // unwinds the producer; never escapes run()
}  // namespace

void LoadPipeline::push_clear(const std::string& collection) {
  current_.items.push_back({true, collection, 0, 0, 0});
  hand_over();  // a clear must not wait behind a partial batch of another collection
}

void LoadPipeline::push_document(const std::string& collection, const uint8_t* doc, size_t size, int64_t index) {
  current_.items.push_back({false, collection, current_.bytes.size(), size, index});
  current_.bytes.append(reinterpret_cast<const char*>(doc), size);
  if (current_.bytes.size() >= kBatchBytes) hand_over();
}

void LoadPipeline::hand_over() {
  if (current_.items.empty()) return;
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queue_.size() < kMaxQueuedBatches || consumer_failed_; });
  if (consumer_failed_) throw ConsumerFailed{};
  queue_.push_back(std::move(current_));
  current_ = Batch{};
  changed_.notify_all();
}

void LoadPipeline::run(const std::function<void(LoadPipeline&)>& produce, const ClearFn& on_clear,
                       const DocumentFn& on_document) {
  std::exception_ptr producer_error;
  std::thread worker([&] {
    try {
      produce(*this);
      hand_over();
    } catch (const ConsumerFailed&) {
    } catch (...) {
      producer_error = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    producer_done_ = true;
    changed_.notify_all();
  });
  std::exception_ptr consumer_error;
  try {
    for (;;) {
      Batch batch;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !queue_.empty() || producer_done_; });
        if (queue_.empty()) break;
        batch = std::move(queue_.front());
        queue_.pop_front();
        changed_.notify_all();
      }
      for (const auto& item : batch.items) {
        if (item.clear) on_clear(item.collection);
        else
          on_document(item.collection, reinterpret_cast<const uint8_t*>(batch.bytes.data()) + item.offset, item.size,
                      item.index);
      }
    }
  } catch (...) {
    consumer_error = std::current_exception();
    std::lock_guard lock(mutex_);
    consumer_failed_ = true;
    changed_.notify_all();
  }
  worker.join();
  if (consumer_error) std::rethrow_exception(consumer_error);
  if (producer_error) std::rethrow_exception(producer_error);
}

}  // namespace facecrowd
