// Output shared by the commands: aligned tables, human sizes and ages, the
// JSON form of the store's value types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/content.h"
#include "core/timestamp.h"
#include "nlohmann/json.hpp"

namespace casfs::tools {

// 1024-based: "0 B", "999 B", "1.0 KiB", "12.5 MiB", "3.0 GiB".
std::string HumanSize(int64_t bytes);
// go-units' HumanDuration, as `ctr` and `docker` print ages: "Less than a
// second", "1 second", "42 seconds", "About a minute", "3 minutes",
// "About an hour", "5 hours", "3 days", "2 weeks", "4 months", "2 years".
std::string HumanDuration(int64_t seconds);
// "<HumanDuration(now - then)> ago"; a time in the future counts as now.
std::string Age(Timestamp then, Timestamp now);

// Columns padded to their widest cell, two spaces apart; the last column is
// not padded. Headers are upper case, as in `ctr content ls`.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void AddRow(std::vector<std::string> cells);
  // The header line and every row, each ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "k=v,k2=v2", sorted by key (as `ctr content ls` shows labels).
std::string JoinLabels(const Labels& labels);

// Full fields; times in RFC 3339 with nanoseconds (UTC).
nlohmann::json ToJson(const BlobInfo& info);
nlohmann::json ToJson(const IngestStatus& status);

// Writes `json` to stdout, indented, with a final newline.
void PrintJson(const nlohmann::json& json);
// Writes `text` to stdout as is.
void PrintText(const std::string& text);

}  // namespace casfs::tools
