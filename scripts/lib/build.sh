# shellcheck shell=bash
# The one build step of the scripts (sourced). BUILD_DIR picks the tree (each script has its own
# default); a tree that is not configured yet is configured as a Release build without tests or
# benchmarks, one that is (e.g. a developer's RelWithDebInfo tree) is used as it is, so a script
# never flips another build's options.
#   cms_build TARGET...            configure when needed, build the targets (ninja: a no-op when current)
#   cms_build_missing TARGET...    the same, only when one of the targets' binaries is missing
# CMS_JOBS: parallel jobs (default: nproc). CMS_SKIP_DEPS=1: do not run install-deps.sh first.
# CMS_NO_BUILD=1: never configure or build (e.g. while another build runs in BUILD_DIR): the
# targets' binaries must already be in BUILD_DIR, used as they are; a missing one is an error.

[ -n "${CMS_LIB_BUILD:-}" ] && return 0
CMS_LIB_BUILD=1
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cms_build() {
  : "${BUILD_DIR:?BUILD_DIR is not set}"
  if [ -n "${CMS_NO_BUILD:-}" ]; then
    local t absent=()
    for t in "$@"; do [ -x "$BUILD_DIR/$t" ] || absent+=("$t"); done
    [ ${#absent[@]} -eq 0 ] ||
      { echo "CMS_NO_BUILD is set and $BUILD_DIR lacks ${absent[*]}: build them first" >&2; return 1; }
    return 0
  fi
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    # A fresh machine has no compiler or CAF yet: the packages come first.
    [ -n "${CMS_SKIP_DEPS:-}" ] || "$cms_root/scripts/install-deps.sh" >&2
    cmake -S "$cms_root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${CMS_BUILD_TYPE:-Release}" \
      -DCMS_BUILD_TESTS=OFF -DCMS_BUILD_BENCH=OFF >&2 || { echo "cmake failed" >&2; return 1; }
  fi
  cmake --build "$BUILD_DIR" -j "${CMS_JOBS:-$(nproc)}" --target "$@" >&2 ||
    { echo "build of $* failed in $BUILD_DIR" >&2; return 1; }
}

cms_build_missing() {
  local t
  for t in "$@"; do
    [ -x "$BUILD_DIR/$t" ] || { cms_build "$@"; return; }
  done
}
