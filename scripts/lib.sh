# Shared helpers for scripts/*. Source it; do not run it.

# casfs_build DIR [cmake args...]: configure DIR once (Ninja), then build it.
casfs_build() {
  local dir=$1; shift
  if [[ ! -f "$dir/build.ninja" ]]; then
    cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  fi
  cmake --build "$dir" -- -j"$(nproc)" | { grep -v '^\[' || true; }
}
