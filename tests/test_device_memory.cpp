// The device block cache's bookkeeping (src/internal/stream_block_cache.hpp), on a fake
// device whose allocations, fences and capacity the test controls: the CUDA plugin runs
// the same class over cudaMalloc and events.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "internal/stream_block_cache.hpp"

namespace mixprec::test {
namespace {

/// A device with `capacity` bytes; fences are numbers that pass when the test says so. Each
/// test gives back the blocks it took: the cache's destructor frees its idle blocks, while a
/// block in use is its caller's (LeakSanitizer reports one left taken).
struct fake_device {
  struct log {
    std::size_t capacity = 0, used = 0;
    std::vector<std::size_t> allocations;  // sizes asked of the device
    int frees = 0, synchronizations = 0, next_fence = 1;
    std::set<int> passed, live_fences;
  };
  log* l;
  using fence = int;
  bool allocate(std::size_t bytes, void** p) {
    l->allocations.push_back(bytes);
    if (l->used + bytes > l->capacity) return false;
    l->used += bytes;
    *p = new char[bytes];
    sizes[*p] = bytes;
    return true;
  }
  void free(void* p) {
    l->used -= sizes[p];
    sizes.erase(p);
    delete[] static_cast<char*>(p);
    ++l->frees;
  }
  fence record(void*) {
    l->live_fences.insert(l->next_fence);
    return l->next_fence++;
  }
  bool passed(const fence& f) { return l->passed.count(f) > 0; }
  void drop(const fence& f) { l->live_fences.erase(f); }
  void synchronize() { ++l->synchronizations; }
  std::map<void*, std::size_t> sizes;
};

using cache = detail::stream_block_cache<fake_device>;
void* const stream_a = reinterpret_cast<void*>(0xa);
void* const stream_b = reinterpret_cast<void*>(0xb);

TEST(device_block_cache, rounds_requests_to_shareable_sizes) {
  EXPECT_EQ(cache::rounded(1), 512u);
  EXPECT_EQ(cache::rounded(512), 512u);
  EXPECT_EQ(cache::rounded(513), 1024u);
  EXPECT_EQ(cache::rounded((1u << 20) - 1), std::size_t(1) << 20);
  EXPECT_EQ(cache::rounded((1u << 20) + 1), std::size_t(2) << 20);
  EXPECT_EQ(cache::rounded((3u << 20)), std::size_t(4) << 20);
}

TEST(device_block_cache, the_same_stream_reuses_a_block_at_once) {
  fake_device::log l;
  l.capacity = 1 << 24;
  cache c(fake_device{&l});
  void* p = c.take(1000, stream_a);
  ASSERT_NE(p, nullptr);
  c.give_back(p, stream_a);
  EXPECT_EQ(c.stats().cached_bytes, 1024u);
  EXPECT_EQ(c.take(900, stream_a), p);  // same size class, same stream: no fence needed
  EXPECT_EQ(l.allocations.size(), 1u);
  EXPECT_EQ(c.stats().reuses, 1);
  EXPECT_EQ(c.stats().in_use_bytes, 1024u);
  EXPECT_TRUE(l.live_fences.empty()) << "the reused block's fence was not released";
  c.give_back(p, stream_a);
}

TEST(device_block_cache, another_stream_waits_for_the_fence) {
  fake_device::log l;
  l.capacity = 1 << 24;
  cache c(fake_device{&l});
  void* p = c.take(4096, stream_a);
  c.give_back(p, stream_a);
  void* q = c.take(4096, stream_b);  // stream a may still be using p
  EXPECT_NE(q, p);
  c.give_back(q, stream_b);
  l.passed.insert(1);  // p's fence (the first recorded) has passed
  void* r = c.take(4096, reinterpret_cast<void*>(0xc));
  EXPECT_EQ(r, p);
  c.give_back(r, stream_a);
}

TEST(device_block_cache, takes_the_best_fit_up_to_twice_the_size) {
  fake_device::log l;
  l.capacity = 1 << 24;
  cache c(fake_device{&l});
  void* big = c.take(8192, stream_a);
  void* mid = c.take(3000, stream_a);  // 3072
  c.give_back(big, stream_a);
  c.give_back(mid, stream_a);
  EXPECT_EQ(c.take(3072, stream_a), mid);
  void* small = c.take(1024, stream_a);  // 8192 is more than twice 1024: not used
  EXPECT_NE(small, big);
  EXPECT_EQ(c.take(5000, stream_a), big);  // 5120 <= 8192 <= 10240
  for (void* q : {mid, small, big}) c.give_back(q, stream_a);
}

TEST(device_block_cache, out_of_memory_gives_idle_blocks_back_and_retries) {
  fake_device::log l;
  l.capacity = 3 << 20;
  cache c(fake_device{&l});
  void* p = c.take(2 << 20, stream_a);
  ASSERT_NE(p, nullptr);
  c.give_back(p, stream_a);
  // 2 MiB idle + 2 MiB more does not fit in 3 MiB: the idle block is freed, then it fits.
  void* q = c.take(1536 << 10, stream_b);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(l.frees, 1);
  EXPECT_EQ(l.synchronizations, 1);
  EXPECT_EQ(c.stats().cached_bytes, 0u);
  EXPECT_EQ(c.stats().trims, 1);
  // Nothing idle left to free: the request fails and the caller reports it.
  EXPECT_EQ(c.take(4 << 20, stream_b), nullptr);
  EXPECT_EQ(c.stats().in_use_bytes, std::size_t(2) << 20);
  c.give_back(q, stream_b);
}

TEST(device_block_cache, forgets_streams_that_end) {
  fake_device::log l;
  l.capacity = 1 << 24;
  cache c(fake_device{&l});
  void* p = c.take(100, stream_a);
  c.give_back(p, stream_a);
  c.forget_stream(stream_a);
  // A new stream may get the old one's handle value: it must still wait for the fence.
  void* q = c.take(100, stream_a);
  EXPECT_NE(q, p);
  l.passed.insert(1);
  EXPECT_EQ(c.take(100, stream_a), p);
  c.give_back(q, stream_a);
  c.give_back(p, stream_a);
}

TEST(device_block_cache, ignores_foreign_pointers_and_can_be_turned_off) {
  fake_device::log l;
  l.capacity = 1 << 24;
  {
    cache c(fake_device{&l}, /*enabled=*/false);
    void* p = c.take(100, stream_a);
    int foreign = 0;
    c.give_back(&foreign, stream_a);  // not the cache's: left alone
    c.give_back(p, stream_a);
    EXPECT_EQ(l.frees, 1);  // off: freed at once
    void* q = c.take(100, stream_a);
    EXPECT_NE(q, nullptr);
    EXPECT_EQ(l.allocations.size(), 2u);
    c.give_back(q, stream_a);
    EXPECT_EQ(l.frees, 2);
  }
  fake_device::log m;
  m.capacity = 1 << 24;
  {
    cache c(fake_device{&m});
    c.give_back(c.take(100, stream_a), stream_a);
    c.give_back(c.take(5000, stream_b), stream_b);
  }
  EXPECT_EQ(m.frees, 2) << "the cache's destructor gives its idle blocks back";
  EXPECT_TRUE(m.live_fences.empty());
}

}  // namespace
}  // namespace mixprec::test
