// The fuzzers' view of their input: integers and byte runs taken from the front, zeros
// once it runs out, so that every input decodes to some call.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fuzz {

class input {
 public:
  input(const std::uint8_t* data, std::size_t size) : p_(data), left_(size) {}

  template <class T>
  T take() {
    T v{};
    const std::size_t n = std::min(sizeof(T), left_);
    std::memcpy(&v, p_, n);
    p_ += n;
    left_ -= n;
    return v;
  }

  /// An integer in [0, bound) (bound > 0).
  std::int64_t below(std::int64_t bound) { return std::int64_t(take<std::uint32_t>() % std::uint64_t(bound)); }

  std::vector<std::uint8_t> bytes(std::size_t n) {
    n = std::min(n, left_);
    std::vector<std::uint8_t> out(p_, p_ + n);
    p_ += n;
    left_ -= n;
    return out;
  }

  std::vector<std::uint8_t> rest() { return bytes(left_); }
  std::size_t left() const { return left_; }

 private:
  const std::uint8_t* p_;
  std::size_t left_;
};

}  // namespace fuzz
