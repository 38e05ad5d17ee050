// The store contract, held against the engine itself (LocalStore on a
// fresh temp root per test).
#include <spdlog/spdlog.h>

#include "core/local_store.h"
#include "tests/conformance/store_conformance.h"

namespace casfs::conformance {
namespace {

class LocalStoreUnderTest final : public StoreUnderTest {
 public:
  explicit LocalStoreUnderTest(std::unique_ptr<LocalStore> store, std::unique_ptr<ScratchDir> dir)
      : dir_(std::move(dir)), store_(std::move(store)) {}
  Store& store() override { return *store_; }

 private:
  std::unique_ptr<ScratchDir> dir_;  // outlives the store
  std::unique_ptr<LocalStore> store_;
};

class LocalStoreFactory final : public StoreFactory {
 public:
  std::string Name() const override { return "LocalStore"; }
  std::unique_ptr<StoreUnderTest> Make() override {
    auto dir = std::make_unique<ScratchDir>("casfs-conformance-engine");
    auto store = LocalStore::Open(dir->path() / "root");
    if (!store.ok()) {
      spdlog::error("LocalStore::Open: {}", store.status().ToString());
      return nullptr;
    }
    return std::make_unique<LocalStoreUnderTest>(std::move(*store), std::move(dir));
  }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Engine, StoreConformanceTest,
                         ::testing::Values(std::make_shared<LocalStoreFactory>()), FactoryName);

}  // namespace casfs::conformance
