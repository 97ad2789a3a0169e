// lab_tb.h -- small helpers shared by the csim testbenches (never by kernels).
//
//  * TbCheck   counts failures and prints one line per test case, plus the
//              first mismatching element only (not every element).
//  * TbRng     a tiny deterministic xorshift generator, so every run of a
//              testbench sees the same "random" data.
//  * Vector files: whitespace-separated unsigned decimal integers. pytest
//              writes the inputs with numpy, runs `<tb> vectors in out`, and
//              compares `out` with the numpy twin (labkit/kernels/).
#ifndef LAB_TB_H
#define LAB_TB_H

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

class TbCheck {
 public:
  // Compare two equally long arrays; report the first mismatch.
  template <typename T>
  void arrays(const std::string &name, const T *got, const T *want,
              std::size_t n) {
    for (std::size_t i = 0; i < n; i++) {
      if (got[i] != want[i]) {
        fail(name, "element " + std::to_string(i) + ": got " +
                       std::to_string(static_cast<unsigned long long>(got[i])) +
                       ", want " +
                       std::to_string(static_cast<unsigned long long>(want[i])));
        return;
      }
    }
    pass(name);
  }

  void expect(const std::string &name, bool ok, const std::string &why) {
    if (ok) {
      pass(name);
    } else {
      fail(name, why);
    }
  }

  void pass(const std::string &name) {
    cases_++;
    std::printf("PASS %s\n", name.c_str());
  }

  void fail(const std::string &name, const std::string &why) {
    cases_++;
    failures_++;
    std::printf("FAIL %s: %s\n", name.c_str(), why.c_str());
  }

  // Print the summary; the value to return from main().
  int finish(const char *tb_name) const {
    std::printf("%s: %d case(s), %d failure(s)\n", tb_name, cases_, failures_);
    return failures_ == 0 ? 0 : 1;
  }

 private:
  int cases_ = 0;
  int failures_ = 0;
};

// xorshift32: deterministic test data, not for anything else.
class TbRng {
 public:
  explicit TbRng(uint32_t seed) : state_(seed ? seed : 1u) {}
  uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

 private:
  uint32_t state_;
};

// Reads unsigned integers from a vector file, one at a time.
class TbVectorReader {
 public:
  explicit TbVectorReader(const char *path) : in_(path) {
    if (!in_) throw std::runtime_error(std::string("cannot open ") + path);
  }
  uint64_t next() {
    unsigned long long v;
    if (!(in_ >> v)) throw std::runtime_error("vector file ended early");
    return v;
  }
  uint32_t next32() {
    const uint64_t v = next();
    if (v > 0xFFFFFFFFull) throw std::runtime_error("value exceeds 32 bits");
    return static_cast<uint32_t>(v);
  }

 private:
  std::ifstream in_;
};

// Writes unsigned integers to a vector file, one line per record.
class TbVectorWriter {
 public:
  explicit TbVectorWriter(const char *path) : out_(path) {
    if (!out_) throw std::runtime_error(std::string("cannot create ") + path);
  }
  void put(uint64_t v) { out_ << v << ' '; }
  void end_record() { out_ << '\n'; }

 private:
  std::ofstream out_;
};

#endif  // LAB_TB_H
