#!/usr/bin/env bash
# ThreadSanitizer run of the pair. NOT part of CI (scripts/test.sh builds with
# ASan+UBSan): TSan slows the nodes 5-15x, needs its own build tree and takes ~30-60 min on 2 cores.
#
# Builds cmsd, cms-witness, mtasim and the pair's integration tests (integration_pair,
# integration_replication) with -fsanitize=thread into build-tsan (BUILD_DIR overrides), runs the
# tests with every process (the test binaries and the cmsd/witness/mtasim they start) writing
# its reports to $OUT/tsan.<pid>, then prints each distinct report (kind + the first frame of our
# code in each of the two accesses) with its count, and the suppressions that matched.
# Debian's CAF is not built with TSan: test/tsan_caf_hb.cpp, built here and preloaded into every
# process (LD_PRELOAD), tells TSan the ordering CAF's mailboxes and scheduler guarantee (a message's
# send before its handling, an actor's runs one after the other). What CAF still does out of TSan's
# sight with no frame of ours is in test/tsan.supp, each entry with its reason. Exit status 1 when
# a test failed or a report was not suppressed.
#
#   scripts/tsan.sh                    # build + run both test binaries
#   scripts/tsan.sh --no-build         # run only
#   scripts/tsan.sh --filter 'pair.*'  # a gtest filter
#   OUT=/tmp/tsan-out scripts/tsan.sh  # where the reports go (default: a new /tmp/cms-tsan-XXXXXX)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
BUILD_DIR=${BUILD_DIR:-$root/build-tsan}
OUT=${OUT:-$(mktemp -d /tmp/cms-tsan-XXXXXX)}
mkdir -p "$OUT"
build=1 filter="*"
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build="" ;;
    --filter) filter=$2; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "tsan.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
tests=(integration_pair integration_replication)

if [ -n "$build" ]; then
  [ -f /work/ccache/env.sh ] && . /work/ccache/env.sh
  # CMS_SANITIZE must stay OFF: ASan and TSan cannot be combined.
  [ -f "$BUILD_DIR/build.ninja" ] || cmake -S "$root" -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMS_SANITIZE=OFF -DCMS_BUILD_BENCH=OFF -DCMS_PCH=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread -g -O1" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
    >/dev/null || { echo "tsan.sh: cmake failed" >&2; exit 2; }
  ninja -C "$BUILD_DIR" -j "${CMS_JOBS:-2}" cmsd cms-witness mtasim "${tests[@]}" ||
    { echo "tsan.sh: build failed" >&2; exit 2; }
fi
# The CAF happens-before annotations: a small shared library, not instrumented itself.
hb="$BUILD_DIR/libcms_tsan_caf_hb.so"
if [ -n "$build" ] || [ ! -f "$hb" ] || [ "$root/test/tsan_caf_hb.cpp" -nt "$hb" ]; then
  g++ -std=c++17 -O1 -g -fPIC -shared -Wall -o "$hb" "$root/test/tsan_caf_hb.cpp" -ldl ||
    { echo "tsan.sh: building $hb failed" >&2; exit 2; }
fi
export LD_PRELOAD="$hb${LD_PRELOAD:+:$LD_PRELOAD}"

# history_size: longer access history, fewer "failed to restore the stack" reports.
# exitcode=0: the tests check how cmsd exits; the reports are counted from the logs instead.
# print_suppressions: each process lists the suppressions it used (summed up below).
export TSAN_OPTIONS="suppressions=$root/test/tsan.supp:log_path=$OUT/tsan:history_size=4:halt_on_error=0:second_deadlock_stack=1:exitcode=0:print_suppressions=1${TSAN_EXTRA:+:$TSAN_EXTRA}"
echo "tsan.sh: reports in $OUT (TSAN_OPTIONS=$TSAN_OPTIONS LD_PRELOAD=$LD_PRELOAD)"
failed=0
for t in "${tests[@]}"; do
  bin=$(find "$BUILD_DIR" -maxdepth 3 -type f -name "$t" -perm -u+x | head -1)
  [ -n "$bin" ] || { echo "tsan.sh: $t not built" >&2; failed=1; continue; }
  echo "== $t"
  "$bin" --gtest_filter="$filter" > "$OUT/$t.log" 2>&1; rc=$?
  grep -E '^\[ +(OK|FAILED) +\]' "$OUT/$t.log" | sed 's/^/   /'
  [ "$rc" = 0 ] || { echo "   $t exited $rc (log: $OUT/$t.log)"; failed=1; }
done

# One line per distinct report: its kind and, for each of the two accesses, the first frame in our
# sources (or, when there is none, the first library frame).
python3 - "$OUT" "$root" <<'PY'
import collections, glob, re, sys
out, root = sys.argv[1], sys.argv[2]
ours = re.compile(r"(?:" + re.escape(root) + r"/(?:build[^/]*/\.\./)?|\.\./)"
                  r"((?:actors|runtime|persistence|test|config)/\S+)")
frame = re.compile(r"^\s+#\d+ (.+?) (\S+) \((\S+?)\+0x[0-9a-f]+\)$")
def short(fn):
    while True:
        s = re.sub(r"<[^<>]*>", "", fn)
        if s == fn:
            break
        fn = s
    return re.sub(r"\(.*", "", fn)[:60]
def first(section):
    frames = [frame.match(l) for l in section]
    frames = [f for f in frames if f and "libtsan" not in f.group(3)]
    for f in frames:
        m = ours.search(f.group(2))
        if m:
            return "%s (%s)" % (short(f.group(1)), m.group(1))
    return ("%s [%s]" % (short(frames[0].group(1)), frames[0].group(3).split("/")[-1])) if frames else "?"
seen = collections.Counter(); example = {}; supp = collections.Counter()
for f in sorted(glob.glob(out + "/tsan.*")):
    text = open(f, errors="replace").read()
    for m in re.finditer(r"^\s*(\d+) (\w+:.+)$", text.split("ThreadSanitizer: Matched", 1)[-1]
                         if "ThreadSanitizer: Matched" in text else "", re.M):
        supp[m.group(2)] += int(m.group(1))
    for block in text.split("==================")[1:]:
        m = re.search(r"WARNING: ThreadSanitizer: ([^\n(]+)", block)
        if not m:
            continue
        # The two access sections: the lines under the first two headers ("Write of size ...",
        # "Previous read of size ...", "Mutex ..." for other kinds).
        sections, cur = [], None
        for line in block.split("\n")[1:]:
            if re.match(r"  \S", line):
                cur = []; sections.append((line.strip(), cur))
            elif cur is not None and line.startswith("    #"):
                cur.append(line)
        accesses = [first(lines) for head, lines in sections[:2] if not head.startswith("Location")]
        key = (m.group(1).strip(), " <- ".join(accesses) or "?")
        seen[key] += 1; example.setdefault(key, f)
for (kind, where), n in seen.most_common():
    print("  %4d x %s: %s\n         e.g. %s" % (n, kind, where, example[(kind, where)]))
for s, n in supp.most_common():
    print("  suppressed %5d x %s" % (n, s))
print("tsan.sh: %d unsuppressed reports (%d distinct), %d suppressed" % (sum(seen.values()), len(seen), sum(supp.values())))
sys.exit(1 if seen else 0)
PY
reports=$?
[ "$failed" = 0 ] && [ "$reports" = 0 ] && { echo "tsan.sh: clean"; exit 0; }
exit 1
