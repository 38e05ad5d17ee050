// Label text: decoding is strict enough that a decoded text re-encodes to
// the same bytes, every label set survives encode/decode, and validation is
// exactly its three rules.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/labels.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

void CheckDecode(std::string_view text) {
  casfs::Result<casfs::Labels> decoded = casfs::DecodeLabels(text, "fuzz");
  if (decoded.ok()) {
    FUZZ_CHECK(casfs::EncodeLabels(*decoded) == text);
  } else {
    FUZZ_CHECK(decoded.status().kind() == casfs::ErrorKind::kInvalidArgument);
    FUZZ_CHECK(decoded.status().message().find("fuzz") != std::string::npos);
  }
}

void CheckValidate(const std::string& key, const std::string& value) {
  casfs::Status status = casfs::ValidateLabel(key, value);
  bool reserved = key.compare(0, 6, "casfs.") == 0;
  if (key.empty() || key.size() + value.size() > casfs::kMaxLabelSize) {
    FUZZ_CHECK(status.kind() == casfs::ErrorKind::kInvalidArgument);
  } else if (reserved) {
    FUZZ_CHECK(status.kind() == casfs::ErrorKind::kPermissionDenied);
  } else {
    FUZZ_CHECK(status.ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CheckDecode(std::string_view(reinterpret_cast<const char*>(data), size));

  casfs::fuzz::Input in(data, size);
  casfs::Labels labels;
  bool all_valid = true;
  while (!in.empty()) {
    std::string key = in.String();
    std::string value = in.String();
    CheckValidate(key, value);
    all_valid = all_valid && casfs::ValidateLabel(key, value).ok();
    labels[key] = value;
  }
  std::string text = casfs::EncodeLabels(labels);
  FUZZ_CHECK(text.find('\0') == std::string::npos);
  casfs::Result<casfs::Labels> back = casfs::DecodeLabels(text, "encoded");
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == labels);
  // A later duplicate key replaced an earlier one, so the set's validity is
  // implied by (not equal to) that of every pair seen.
  if (all_valid) FUZZ_CHECK(casfs::ValidateLabels(labels).ok());
  return 0;
}
