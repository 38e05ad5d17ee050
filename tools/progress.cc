#include "tools/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "fmt/format.h"
#include "tools/format.h"

namespace casfs::tools {
namespace {

size_t TerminalWidth() {
  struct winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

std::string ClockText(int64_t seconds) {
  if (seconds >= 3600) return fmt::format("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
  return fmt::format("{}:{:02}", seconds / 60, seconds % 60);
}

}  // namespace

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, int64_t total, int64_t start)
    : label_(std::move(label)),
      total_(total),
      start_(start),
      done_(start),
      enabled_(total > 0 && StderrIsTerminal()) {}

Progress::~Progress() { Finish(); }

void Progress::Set(int64_t done) {
  done_ = done;
  if (!enabled_) return;
  auto now = Clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100) && done_ < total_) return;
  last_draw_ = now;
  Draw();
}

void Progress::Draw() {
  double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
  double rate = elapsed > 0.05 ? static_cast<double>(done_ - start_) / elapsed : 0.0;
  int64_t percent = std::clamp<int64_t>(done_ * 100 / total_, 0, 100);
  std::string eta = rate > 0 ? ClockText(static_cast<int64_t>(static_cast<double>(total_ - done_) / rate)) : "-:--";
  std::string numbers = fmt::format(" {:3}% {}/{} {}/s ETA {}", percent, HumanSize(done_), HumanSize(total_),
                                    HumanSize(static_cast<int64_t>(rate)), eta);
  size_t width = TerminalWidth() - 1;  // never write the last column: some terminals wrap there
  std::string label = label_;
  size_t bar = 0;
  if (label.size() + numbers.size() + 12 <= width) {
    bar = std::min<size_t>(width - label.size() - numbers.size() - 3, 40);
  } else {
    size_t room = width > numbers.size() + 4 ? width - numbers.size() - 1 : 0;
    if (label.size() > room) label = room > 3 ? "..." + label.substr(label.size() - (room - 3)) : "";
  }
  std::string line = "\r\033[K" + label;
  if (bar > 0) {
    auto filled = static_cast<size_t>(percent) * bar / 100;
    line += " [" + std::string(filled, '#') + std::string(bar - filled, '-') + "]";
  }
  line += numbers;
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::Finish() {
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace casfs::tools
