#!/usr/bin/env bash
# Times `fwaudit extract` against `unsquashfs` on the same SquashFS image and
# prints the ratio and fwaudit's peak RSS.
#
#   scripts/bench.sh IMAGE [OFFSET]
#
# IMAGE is a SquashFS image, or a firmware image with a SquashFS at OFFSET
# bytes (decimal or 0x hex; the script then cuts it out first so both tools
# read the same bytes). Each tool runs RUNS times (default 3); the best wall
# time of each is compared. Needs unsquashfs (squashfs-tools) and GNU time.
set -euo pipefail
img="${1:?usage: scripts/bench.sh IMAGE [OFFSET]}"
off="${2:-0}"
runs="${RUNS:-3}"
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

command -v unsquashfs >/dev/null || { echo "unsquashfs not found: apt-get install squashfs-tools" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time not found: apt-get install time" >&2; exit 2; }

sq="$img"
if [ "$((off))" -ne 0 ]; then
  sq="$tmp/cut.sqfs"
  tail -c +"$(( off + 1 ))" "$img" > "$sq"
fi

echo "building fwaudit..." >&2
(cd "$root" && go build -o "$tmp/fwaudit" ./cmd/fwaudit)

best() { sort -n | head -1; }
measure() { # label, command...
  local label="$1"; shift
  local times=() rss=()
  for i in $(seq "$runs"); do
    rm -rf "$tmp/out"
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>&1
    read -r t m < "$tmp/time"
    times+=("$t"); rss+=("$m")
  done
  printf '%s\n' "${times[@]}" | best > "$tmp/$label.t"
  printf '%s\n' "${rss[@]}" | sort -n | tail -1 > "$tmp/$label.m"
}

measure unsquashfs unsquashfs -no-progress -d "$tmp/out" "$sq"
measure fwaudit "$tmp/fwaudit" extract -q -o "$tmp/out" "$sq"

tu="$(cat "$tmp/unsquashfs.t")"; tf="$(cat "$tmp/fwaudit.t")"
mu="$(cat "$tmp/unsquashfs.m")"; mf="$(cat "$tmp/fwaudit.m")"
size="$(stat -c %s "$sq")"
echo "image:      $img ($(( size / 1024 )) KiB SquashFS, best of $runs runs, $(nproc) cores)"
echo "unsquashfs: ${tu}s, peak RSS $(( mu / 1024 )) MiB"
echo "fwaudit:    ${tf}s, peak RSS $(( mf / 1024 )) MiB"
awk -v a="$tf" -v b="$tu" 'BEGIN { if (b > 0) printf "ratio:      %.2fx unsquashfs wall time\n", a / b; else print "ratio:      unsquashfs too fast to measure" }'
