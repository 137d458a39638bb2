#!/usr/bin/env bash
# scripts/databricks-init.sh: put the airtable SQLite extension (airtable.so)
# and the airtable-export command on a Databricks driver (Ubuntu), as a
# cluster-scoped init script, or on any Debian/Ubuntu machine.
#
# Usage:
#   databricks-init.sh [PACKAGE.deb]
#     AIRTABLE_DEB=/Volumes/main/default/libs/airtable-sqlite_0.1.0_amd64.deb
#         install this package (built with `cd build && cpack -G DEB`); the
#         same as the PACKAGE.deb argument. Installs under /usr.
#     AIRTABLE_SRC=/path/to/airtable-sqlite
#         or build this source checkout and `cmake --install` it:
#     AIRTABLE_PREFIX=/usr         install prefix for AIRTABLE_SRC (default
#                                  /usr; only /usr makes `.load airtable` and
#                                  load_extension('airtable') work by name,
#                                  elsewhere load <prefix>/lib/.../airtable.so
#                                  by full path)
#     AIRTABLE_BUILD_DIR=DIR       build there (default: a temporary directory,
#                                  removed afterwards)
#     AIRTABLE_ON_WORKERS=1        also install on worker nodes (by default a
#                                  node with DB_IS_DRIVER=FALSE does nothing:
#                                  the export runs on the driver)
#   With neither, run from a checkout, it builds that checkout.
#
# Steps: the runtime libraries (and for a source build the build tools) are
# installed with apt-get when missing (nothing is fetched when they are all
# there), then the package or the build is installed, then the extension is
# loaded once with python3's sqlite3 (or the sqlite3 shell) and
# `airtable-export --version` is run; any failure stops the script with a
# message saying what failed (a failing cluster init script fails the
# cluster start, which is what you want: not a driver without the extension).
# Runs as root (as init scripts do); otherwise uses sudo where it must.
set -euo pipefail

AIRTABLE_DEB="${1:-${AIRTABLE_DEB:-}}"   # or write the package's path here
AIRTABLE_SRC="${AIRTABLE_SRC:-}"          # or the checkout's path here
PREFIX="${AIRTABLE_PREFIX:-/usr}"

say() { echo "databricks-init: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if [ "${DB_IS_DRIVER:-}" = "FALSE" ] && [ "${AIRTABLE_ON_WORKERS:-0}" != "1" ]; then
  say "worker node: nothing to do (set AIRTABLE_ON_WORKERS=1 to install here too)"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

if [ -z "$AIRTABLE_DEB" ] && [ -z "$AIRTABLE_SRC" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  if grep -qs "project(airtable_sqlite" "$here/CMakeLists.txt"; then
    AIRTABLE_SRC=$here
  else
    die "give a package (AIRTABLE_DEB=... or an argument) or a source checkout (AIRTABLE_SRC=...)"
  fi
fi
if [ -n "$AIRTABLE_DEB" ]; then
  [ -f "$AIRTABLE_DEB" ] || die "no package at $AIRTABLE_DEB"
  PREFIX=/usr
else
  [ -f "$AIRTABLE_SRC/CMakeLists.txt" ] || die "no CMakeLists.txt in AIRTABLE_SRC=$AIRTABLE_SRC"
  case "$PREFIX" in /*) ;; *) die "AIRTABLE_PREFIX must be an absolute path: $PREFIX" ;; esac
fi

# --- Debian packages ---------------------------------------------------------
# Each entry is a package, or alternatives "a|b" (Ubuntu 24.04 renamed libcurl4
# to libcurl4t64); an entry counts as present when any alternative is installed.
runtime=(libsqlite3-0 "libcurl4|libcurl4t64" libcjson1 zlib1g libdeflate0 ca-certificates)
build=(cmake gcc make pkg-config libsqlite3-dev libcurl4-openssl-dev libcjson-dev zlib1g-dev libdeflate-dev)

installed() {
  local alt
  for alt in ${1//|/ }; do
    dpkg-query -W -f='${Status}' "$alt" 2>/dev/null | grep -q "install ok installed" && return 0
  done
  return 1
}

python_can_load() {
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c \
    "import sqlite3; sqlite3.connect(':memory:').enable_load_extension(True)" 2>/dev/null
}

wanted=("${runtime[@]}")
[ -n "$AIRTABLE_DEB" ] || wanted+=("${build[@]}")
# Something to check the result with.
python_can_load || command -v sqlite3 >/dev/null || wanted+=(sqlite3)

missing=()
for p in "${wanted[@]}"; do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt=(apt-get -o DPkg::Lock::Timeout=300 -y -q)
  # sudo resets the environment: carry DEBIAN_FRONTEND through it.
  [ -z "$sudo" ] || apt=("$sudo" env DEBIAN_FRONTEND=noninteractive "${apt[@]}")
  say "installing ${missing[*]}"
  "${apt[@]}" update >/dev/null || die "apt-get update failed"
  names=()
  for p in "${missing[@]}"; do
    pick=""
    for alt in ${p//|/ }; do   # the first alternative this release has
      # (no grep -q in a pipe: under pipefail apt-cache's SIGPIPE would fail it)
      if apt-cache show "$alt" >/dev/null 2>&1; then pick=$alt; break; fi
    done
    [ -n "$pick" ] || die "no Debian package $p in this release's apt sources (universe enabled?)"
    names+=("$pick")
  done
  "${apt[@]}" install --no-install-recommends "${names[@]}" >/dev/null \
    || die "apt-get install ${names[*]} failed"
fi

# --- The extension --------------------------------------------------------------
if [ -n "$AIRTABLE_DEB" ]; then
  say "installing $AIRTABLE_DEB"
  $sudo dpkg -i "$AIRTABLE_DEB" >/dev/null || die "dpkg -i $AIRTABLE_DEB failed"
  so=$(dpkg -L airtable-sqlite | grep '/airtable\.so$' | head -n1 || true)
  cmd=$(dpkg -L airtable-sqlite | grep '/bin/airtable-export$' | head -n1 || true)
else
  build_dir="${AIRTABLE_BUILD_DIR:-}"
  if [ -z "$build_dir" ]; then
    build_dir=$(mktemp -d)
    trap 'rm -rf "$build_dir"' EXIT
  fi
  say "building $AIRTABLE_SRC in $build_dir"
  cmake -S "$AIRTABLE_SRC" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
        -DSANITIZE=OFF -DCMAKE_INSTALL_PREFIX="$PREFIX" >/dev/null \
    || die "cmake configure failed"
  cmake --build "$build_dir" -j"$(nproc)" >/dev/null || die "build failed"
  # sudo only when the prefix (or its nearest existing parent) is not ours.
  top=$PREFIX
  while [ ! -e "$top" ]; do top=$(dirname "$top"); done
  inst=""
  [ -w "$top" ] || inst=$sudo
  $inst cmake --install "$build_dir" --strip >/dev/null || die "cmake --install into $PREFIX failed"
  libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build_dir/CMakeCache.txt")
  case "$libdir" in /*) so=$libdir/airtable.so ;; *) so=$PREFIX/$libdir/airtable.so ;; esac
  cmd=$PREFIX/bin/airtable-export
fi
# No ldconfig: it indexes only lib*.so files, never airtable.so. The name
# alone is found because /usr/lib/<multiarch> is a directory the dynamic
# loader always searches; any other directory needs the full path.
[ -f "$so" ] || die "the install left no airtable.so (expected $so)"

# --- Check ------------------------------------------------------------------------
case "$PREFIX" in
  /usr|/usr/) name=airtable ;;   # what users type: the loader finds it
  *)          name=$so ;;        # anywhere else the full path is the way
esac
cd /   # away from the extension: the loader must find it, not the cwd
if python_can_load; then
  out=$(/usr/bin/python3 -c '
import sqlite3, sys
c = sqlite3.connect(":memory:")
c.enable_load_extension(True)
c.load_extension(sys.argv[1])' "$name" 2>&1) \
    || die "python3 could not load the extension as load_extension('$name'): $out"
else
  if ! out=$(sqlite3 :memory: ".load $name" 2>&1) || [ -n "$out" ]; then
    die "the sqlite3 shell could not run '.load $name': $out"
  fi
fi
v=$("$cmd" --version 2>&1) || die "$cmd --version failed: $v"
say "ok: $v; extension $so (load it as '$name')"
