// Scratch objects for a const operation that several threads may run at once on one object
// (an operator's apply inside concurrent solves): each call takes a scratch object of its
// own for as long as it runs, so no two calls share one, and a lone caller gets the same
// object back every time (its memory is allocated once, not per call).
//
//   auto s = pool.take();   // a free T, or a new default-constructed one if all are taken
//   s->...                  // the caller's alone; back in the pool when `s` goes
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace mixprec::detail {

template <class T>
class scratch_pool {
 public:
  class lease {
   public:
    lease(scratch_pool& pool, std::unique_ptr<T> item) : pool_(&pool), item_(std::move(item)) {}
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() { pool_->give_back(std::move(item_)); }
    T& operator*() const { return *item_; }
    T* operator->() const { return item_.get(); }

   private:
    scratch_pool* pool_;
    std::unique_ptr<T> item_;
  };

  lease take() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      std::unique_ptr<T> item = std::move(free_.back());
      free_.pop_back();
      return lease(*this, std::move(item));
    }
    // Room for every object made, so that giving one back never allocates.
    free_.reserve(made_ + 1);
    ++made_;
    lock.unlock();
    return lease(*this, std::make_unique<T>());
  }

 private:
  void give_back(std::unique_ptr<T> item) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(item));
  }

  std::mutex mutex_;
  std::vector<std::unique_ptr<T>> free_;
  std::size_t made_ = 0;
};

}  // namespace mixprec::detail
