// The store contract, as one GoogleTest suite that every casfs::Store
// implementation must pass: the engine (LocalStore) directly, and the mount
// through an adapter that implements casfs::Store with file operations.
//
// It covers what containerd's own content testsuite covers (writer basics,
// resume from an offset, commit with a mismatched size or digest,
// AlreadyExists, Info/Update/labels, Walk and ListStatuses with filters,
// Abort, reading back) plus casfs' contract on top (positional writes,
// truncate, digest after commit, kinds of every error). The body uses only
// the Store interface of core/store.h, never an implementation's extras.
//
// To run it against an implementation, write one .cc file in this folder:
//
//   namespace casfs::conformance {
//   class MyFactory : public StoreFactory {
//    public:
//     std::string Name() const override { return "Mine"; }
//     Capabilities capabilities() const override { ... }  // if any are missing
//     std::unique_ptr<StoreUnderTest> Make() override { ... }
//   };
//   INSTANTIATE_TEST_SUITE_P(Mine, StoreConformanceTest,
//                            ::testing::Values(std::make_shared<MyFactory>()),
//                            FactoryName);
//   }  // namespace casfs::conformance
//
// (engine_conformance_test.cc is the engine's.)
//
// CMake builds every .cc here into casfs_conformance_tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>

#include "core/store.h"

namespace casfs::conformance {

// One store on a fresh, empty root, with whatever keeps it alive (a temp
// folder, a mount). Destroying it tears everything down (unmounts, removes
// the folder), also when the test failed.
class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;
  virtual Store& store() = 0;
};

// What an implementation cannot do by its nature. Tests that need a
// missing capability skip (GTEST_SKIP) rather than fail.
struct Capabilities {
  // Refs of any bytes and any length. A mount names an ingest after its
  // ref, and a file name can hold neither NUL nor more than 255 bytes.
  bool any_ref_bytes = true;
  // Label keys over 250 bytes (xattr names are at most 255 bytes,
  // "user." included).
  bool long_label_keys = true;
};

class StoreFactory {
 public:
  virtual ~StoreFactory() = default;
  // A name for the instantiation: letters, digits and '_' only.
  virtual std::string Name() const = 0;
  virtual Capabilities capabilities() const { return {}; }
  // A store on a fresh, empty root. nullptr fails the test (with the
  // factory's own message logged).
  virtual std::unique_ptr<StoreUnderTest> Make() = 0;
};

// How gtest prints the parameter in test listings, and so in ctest's test
// names: the factory's name rather than a pointer's bytes.
inline void PrintTo(const std::shared_ptr<StoreFactory>& factory, std::ostream* os) { *os << factory->Name(); }

// For INSTANTIATE_TEST_SUITE_P's name generator.
std::string FactoryName(const ::testing::TestParamInfo<std::shared_ptr<StoreFactory>>& info);

// The fixture: each test gets a fresh store from the parameter's factory.
class StoreConformanceTest : public ::testing::TestWithParam<std::shared_ptr<StoreFactory>> {
 protected:
  void SetUp() override;
  void TearDown() override;

  Store& store() { return under_test_->store(); }
  const Capabilities& caps() const { return caps_; }

 private:
  std::unique_ptr<StoreUnderTest> under_test_;
  Capabilities caps_;
};

// A folder under $TMPDIR (or /tmp) that removes itself, for factories.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag = "casfs-conformance");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace casfs::conformance
