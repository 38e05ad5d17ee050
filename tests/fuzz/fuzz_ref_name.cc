// Ingest file names: every ref encodes to one name that decodes back to it,
// and every name that decodes encodes back to itself (one name per ref).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuse/ref_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  // As a ref.
  auto name = casfs::fuse::EncodeRefName(input);
  if (name.ok()) {
    if (name->empty() || name->size() > casfs::fuse::kMaxNameLength) std::abort();
    if (name->find('/') != std::string::npos || name->find('\0') != std::string::npos) std::abort();
    if (*name == "." || *name == "..") std::abort();
    auto back = casfs::fuse::DecodeRefName(*name);
    if (!back.ok() || *back != input) std::abort();
  }

  // As a file name.
  auto ref = casfs::fuse::DecodeRefName(input);
  if (ref.ok()) {
    auto again = casfs::fuse::EncodeRefName(*ref);
    if (!again.ok() || *again != input) std::abort();
  }
  return 0;
}
