#include "tools/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "fmt/format.h"

namespace casfs::tools {

std::string HumanSize(int64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  size_t unit = 0;
  // Round first, so 1048575 bytes is "1.0 MiB" and not "1024.0 KiB".
  while (std::round(value * 10.0) / 10.0 >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string HumanDuration(int64_t seconds) {
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return fmt::format("{} seconds", seconds);
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return fmt::format("{} minutes", minutes);
  auto hours = static_cast<int64_t>(static_cast<double>(seconds) / 3600.0 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return fmt::format("{} hours", hours);
  if (hours < 24 * 7 * 2) return fmt::format("{} days", hours / 24);
  if (hours < 24 * 30 * 2) return fmt::format("{} weeks", hours / 24 / 7);
  if (hours < 24 * 365 * 2) return fmt::format("{} months", hours / 24 / 30);
  return fmt::format("{} years", hours / 24 / 365);
}

std::string Age(Timestamp then, Timestamp now) {
  int64_t seconds = now.seconds - then.seconds;
  if (now.nanoseconds < then.nanoseconds) --seconds;
  return HumanDuration(std::max<int64_t>(seconds, 0)) + " ago";
}

Table::Table(std::vector<std::string> headers) { rows_.push_back(std::move(headers)); }

void Table::AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

std::string Table::Render() const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

std::string JoinLabels(const Labels& labels) {
  std::string out;
  for (const auto& [key, value] : labels) {
    if (!out.empty()) out += ',';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

nlohmann::json ToJson(const BlobInfo& info) {
  return nlohmann::json{
      {"digest", info.digest.ToString()},
      {"size", info.size},
      {"created_at", FormatRfc3339Nano(info.created_at)},
      {"updated_at", FormatRfc3339Nano(info.updated_at)},
      {"labels", info.labels},
  };
}

nlohmann::json ToJson(const IngestStatus& status) {
  nlohmann::json json{
      {"ref", status.ref},
      {"offset", status.offset},
      {"total", status.total},
      {"started_at", FormatRfc3339Nano(status.started_at)},
      {"updated_at", FormatRfc3339Nano(status.updated_at)},
  };
  json["expected"] = status.expected ? nlohmann::json(status.expected->ToString()) : nlohmann::json();
  return json;
}

void PrintJson(const nlohmann::json& json) {
  // Labels and refs are arbitrary bytes; replace what is not UTF-8 rather
  // than let dump() throw.
  PrintText(json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

void PrintText(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

}  // namespace casfs::tools
