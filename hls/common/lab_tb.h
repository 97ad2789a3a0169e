// lab_tb.h -- small helpers shared by the csim testbenches (never by kernels).
//
//  * TbCheck   counts failures and prints one line per test case, plus the
//              first mismatching element only (not every element).
//  * TbRng     a tiny deterministic xorshift generator, so every run of a
//              testbench sees the same "random" data.
//  * Vector files: whitespace-separated unsigned decimal integers. pytest
//              writes the inputs with numpy, runs `<tb> vectors in out`, and
//              compares `out` with the numpy twin (labkit/kernels/).
//  * tb_main   the main() of every testbench: `<tb>` runs the self-test,
//              `<tb> vectors IN OUT` the vector mode; each testbench supplies
//              only its self-test and how to run one vector record.
#ifndef LAB_TB_H
#define LAB_TB_H

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
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
  // Fills every element of `v` with the next 32-bit values.
  void fill32(std::vector<uint32_t> &v) {
    for (auto &w : v) w = next32();
  }
  // A count, then that many 32-bit values.
  std::vector<uint32_t> counted32() {
    std::vector<uint32_t> v(next());
    fill32(v);
    return v;
  }
  // A count, then that many 64-bit values.
  std::vector<uint64_t> counted64() {
    std::vector<uint64_t> v(next());
    for (auto &w : v) w = next();
    return v;
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
  void put_all(const std::vector<uint32_t> &v) {
    for (uint32_t w : v) put(w);
  }
  void end_record() { out_ << '\n'; }

 private:
  std::ofstream out_;
};

// Runs the kernel on one input record and writes its output record (without
// the line end): the only part of the vector mode that differs per kernel.
using TbVectorRecord = void (*)(TbVectorReader &in, TbVectorWriter &out);

// Vector mode: IN holds a record count, then the records; OUT gets one line
// per record.
inline int tb_vector_mode(const char *in_path, const char *out_path,
                          TbVectorRecord record) {
  TbVectorReader in(in_path);
  TbVectorWriter out(out_path);
  const uint64_t nrecords = in.next();
  for (uint64_t i = 0; i < nrecords; i++) {
    record(in, out);
    out.end_record();
  }
  return 0;
}

// The whole main() of a testbench:
//   <tb>                  self_test(); nonzero on a mismatch
//   <tb> vectors IN OUT   tb_vector_mode(IN, OUT, record)
// Returns 2 for any other command line and 3 if an exception escapes (a
// vector file that cannot be opened or ends early, say).
inline int tb_main(int argc, char **argv, const char *tb_name,
                   int (*self_test)(), TbVectorRecord record) {
  try {
    if (argc == 4 && std::strcmp(argv[1], "vectors") == 0) {
      return tb_vector_mode(argv[2], argv[3], record);
    }
    if (argc != 1) {
      std::fprintf(stderr, "usage: %s [vectors IN OUT]\n", argv[0]);
      return 2;
    }
    return self_test();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s: %s\n", tb_name, e.what());
    return 3;
  }
}

#endif  // LAB_TB_H
