// A one-line progress bar on stderr (percent, bytes, rate, ETA), drawn only
// when stderr is a terminal and the total is known, so scripts and pipes
// see nothing of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace casfs::tools {

bool StderrIsTerminal();

class Progress {
 public:
  // `start`: bytes already done before this run (a resumed ingest); the
  // rate counts only what this run does.
  Progress(std::string label, int64_t total, int64_t start = 0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool enabled() const { return enabled_; }
  // Records progress; redraws at most ten times a second.
  void Set(int64_t done);
  void Add(int64_t bytes) { Set(done_ + bytes); }
  // Erases the bar (the destructor does it too).
  void Finish();

 private:
  void Draw();

  using Clock = std::chrono::steady_clock;
  std::string label_;
  int64_t total_;
  int64_t start_;
  int64_t done_;
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point started_ = Clock::now();
  Clock::time_point last_draw_{};
};

}  // namespace casfs::tools
