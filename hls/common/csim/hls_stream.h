// hls_stream.h -- a minimal hls::stream<T> for C-simulation with plain g++.
//
// What it models
//   An AXI-Stream / FIFO channel between two pieces of a kernel, or between a
//   kernel and its testbench, as an unbounded first-in first-out queue.
//
// What it does NOT model
//   * Depth, back-pressure and timing: full() is always false and write()
//     never blocks. Cycle counts come from the kernel's cycle model, not from
//     here.
//   * Blocking reads. On hardware a kernel that reads an empty stream stalls
//     forever (the PL hangs, ap_done never rises). Here read() on an empty
//     stream throws std::runtime_error naming the stream, so a testbench or
//     the simulator's bridge fails loudly instead of hanging.
//
// Vitis HLS ships its own <hls_stream.h>; this file is only on the include
// path of our g++ builds (-I hls/common/csim), never of a Vitis HLS run.
#ifndef LAB_CSIM_HLS_STREAM_H
#define LAB_CSIM_HLS_STREAM_H

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace hls {

template <typename T, int DEPTH = 0>
class stream {
  // The beats are copied with memcpy when the queue grows.
  static_assert(std::is_trivially_copyable<T>::value, "stream elements must be plain data");

 public:
  stream() : name_("hls::stream") {}
  explicit stream(const char *name) : name_(name ? name : "hls::stream") {}
  ~stream() { std::free(buf_); }

  // A stream is a channel, not a value: copying one is always a bug.
  stream(const stream &) = delete;
  stream &operator=(const stream &) = delete;

  void write(const T &value) {
    if (tail_ == cap_) make_room();
    buf_[tail_++] = value;
  }

  // Read the oldest element. Throws std::runtime_error if the stream is empty.
  T read() {
    if (head_ == tail_) empty_read();
    return buf_[head_++];
  }

  void read(T &value) { value = read(); }

  // Non-blocking variants, as in Vitis HLS: return false instead of waiting.
  bool read_nb(T &value) {
    if (empty()) return false;
    value = read();
    return true;
  }
  bool write_nb(const T &value) {
    write(value);
    return true;
  }

  // --- C-simulation only (not in Vitis HLS's header, so kernel code never
  // uses them): the bridges of the simulated board move whole arrays of beats
  // in and out in one tight loop instead of one write()/read() per beat.

  // Room for `beats` more elements without re-allocating.
  void reserve(std::size_t beats) {
    if (tail_ + beats > cap_) grow(tail_ - head_ + beats);
  }

  // Append `count` beats made by make(i) for i = 0..count-1.
  template <typename Make>
  void write_all(std::size_t count, Make make) {
    reserve(count);
    T *out = buf_ + tail_;
    for (std::size_t i = 0; i < count; i++) out[i] = make(i);
    tail_ += count;
  }

  // Hand every queued beat to take(i, beat), in order, and empty the stream.
  template <typename Take>
  std::size_t read_all(Take take) {
    const std::size_t count = tail_ - head_;
    const T *in = buf_ + head_;
    for (std::size_t i = 0; i < count; i++) take(i, in[i]);
    head_ = tail_ = 0;
    return count;
  }

  // Drop every queued beat but keep the storage: a bridge whose streams live
  // as long as its instance starts each run from empty streams without
  // allocating (fresh 128 KiB buffers cost a page fault every 4 KiB).
  void clear() { head_ = tail_ = 0; }

  bool empty() const { return head_ == tail_; }
  bool full() const { return false; }
  std::size_t size() const { return tail_ - head_; }
  const std::string &name() const { return name_; }

  void operator<<(const T &value) { write(value); }
  void operator>>(T &value) { read(value); }

 private:
  static constexpr std::size_t kInitialBeats = 64;

  [[noreturn]] void empty_read() const {
    throw std::runtime_error("hls::stream '" + name_ +
                             "': read from an empty stream (on hardware the "
                             "kernel would stall here forever)");
  }

  // Out of room at the end: slide the unread beats to the front if that frees
  // space, otherwise double the storage.
  void make_room() {
    if (head_ != 0) {
      const std::size_t live = tail_ - head_;
      std::memmove(buf_, buf_ + head_, live * sizeof(T));
      head_ = 0;
      tail_ = live;
      if (tail_ < cap_) return;
    }
    grow(cap_ ? 2 * cap_ : kInitialBeats);
  }

  void grow(std::size_t capacity) {
    const std::size_t live = tail_ - head_;
    T *fresh = static_cast<T *>(std::malloc(capacity * sizeof(T)));
    if (fresh == nullptr) throw std::bad_alloc();
    if (live != 0) std::memcpy(fresh, buf_ + head_, live * sizeof(T));
    std::free(buf_);
    buf_ = fresh;
    head_ = 0;
    tail_ = live;
    cap_ = capacity;
  }

  std::string name_;
  // A plain array read from head_ to tail_: the simulated board pushes tens
  // of thousands of beats per kernel call, and std::deque's bookkeeping made
  // every beat cost several nanoseconds -- more than the 10 ns a beat takes on
  // the 100 MHz PL, so the simulation could not keep up with the board.
  T *buf_ = nullptr;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
  std::size_t cap_ = 0;
};

}  // namespace hls

#endif  // LAB_CSIM_HLS_STREAM_H
