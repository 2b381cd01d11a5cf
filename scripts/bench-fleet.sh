#!/usr/bin/env bash
# bench-fleet.sh — fleet throughput and worker memory over ../shared/firmware.
#
# In one run, on the same images (real/ and formats/ of the shared corpus):
#   1. back-to-back: `fwaudit scan IMG --out DIR` once per image, summed
#      (wall time of each process, start to exit);
#   2. fleet, 1 worker:  fleet add + `fleet run --workers 1` on a new store;
#   3. fleet, 2 worker processes: fleet add + two `fwaudit worker` processes
#      until the queue is empty;
# and prints images/hour for each and the fleet's overhead over (1). Then
# peak RSS of one worker process (`fleet run --workers 1`, /usr/bin/time -v)
# after 5 images and after 45 images (the corpus looped; each copy gets
# a different trailing byte so it is an image of its own).
#
# Environment: FWAUDIT binary (default: build ./cmd/fwaudit), SCAN_FLAGS
# (default "--no-vulns": no vulnerability database download; set
# SCAN_FLAGS="" for the full pipeline), STORE2 (store of the two-worker run:
# default sqlite in the temporary folder; e.g. a postgres:// URL),
# CORPUS (default ../shared/firmware beside the checkout).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${CORPUS:-$root/../shared/firmware}
flags=${SCAN_FLAGS---no-vulns}
[ -d "$corpus/real" ] || { echo "$0: no corpus at $corpus" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "$0: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
bin=${FWAUDIT:-}
if [ -z "$bin" ]; then
	(cd "$root" && go build -o "$tmp/fwaudit" ./cmd/fwaudit)
	bin=$tmp/fwaudit
fi
export FWAUDIT_FINGERPRINT_KEY="bench fingerprint key 0123456789"

mapfile -t images < <(find "$corpus/real" "$corpus/formats" -type f | sort)
n=${#images[@]}
now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s * 3600 }'; }

# warm-up: page cache and Go's first-run costs
"$bin" scan "${images[0]}" --out "$tmp/warm" --quiet --fail-on none $flags >/dev/null 2>&1 || true

# 1. back-to-back single scans
single=0
for i in "${!images[@]}"; do
	t0=$(now)
	"$bin" scan "${images[$i]}" --out "$tmp/single/$i" --quiet --fail-on none $flags >/dev/null 2>&1 || true
	t1=$(now)
	single=$(awk -v a="$single" -v b="$t0" -v c="$t1" 'BEGIN { print a + c - b }')
done

# 2. fleet, one worker in process
s1="sqlite:$tmp/one.db"
t0=$(now)
"$bin" fleet add --store "$s1" -q "$corpus/real" "$corpus/formats" >/dev/null
"$bin" fleet run --store "$s1" --workers 1 --out "$tmp/out1" $flags >/dev/null 2>&1
t1=$(now)
fleet1=$(awk -v b="$t0" -v c="$t1" 'BEGIN { print c - b }')

# 3. fleet, two worker processes
s2=${STORE2:-sqlite:$tmp/two.db}
t0=$(now)
"$bin" fleet add --store "$s2" -q "$corpus/real" "$corpus/formats" >/dev/null
"$bin" worker --store "$s2" --out "$tmp/out2" $flags >"$tmp/w1.log" 2>&1 &
w1=$!
"$bin" worker --store "$s2" --out "$tmp/out2" $flags >"$tmp/w2.log" 2>&1 &
w2=$!
while :; do
	st=$("$bin" fleet status --store "$s2")
	q=$(awk '$1=="queued"||$1=="running"||$1=="retrying" {s+=$2} END {print s+0}' <<<"$st")
	[ "$q" = 0 ] && break
	sleep 0.2
done
t1=$(now)
kill -TERM $w1 $w2; wait $w1 $w2 2>/dev/null || true
fleet2=$(awk -v b="$t0" -v c="$t1" 'BEGIN { print c - b }')

echo "images: $n (real/ and formats/), scan flags: ${flags:-none}"
printf '%-34s %9s %12s\n' run seconds images/hour
printf '%-34s %9.1f %12s\n' "back-to-back fwaudit scan (sum)" "$single" "$(rate $n $single)"
printf '%-34s %9.1f %12s\n' "fleet run, 1 worker" "$fleet1" "$(rate $n $fleet1)"
printf '%-34s %9.1f %12s\n' "fleet, 2 worker processes" "$fleet2" "$(rate $n $fleet2)"
awk -v a="$fleet1" -v s="$single" -v n="$n" 'BEGIN { printf "fleet overhead (1 worker vs back-to-back): %+.1f%%; per image: %.2f s fleet, %.2f s single\n", (a - s) / s * 100, a / n, s / n }'

# peak RSS of one worker after 5 and after 45 images. The loop starts with
# the largest images, so the first 5 hold the corpus's biggest scans and a
# difference after 45 is growth, not a bigger image met later.
mapfile -t bysize < <(for f in "${images[@]}"; do printf '%s\t%s\n' "$(stat -c %s "$f")" "$f"; done | sort -k1,1nr -k2 | cut -f2)
images=("${bysize[@]}")
mkdir -p "$tmp/loop"
k=0
round=0
while [ $k -lt 45 ]; do
	for img in "${images[@]}"; do
		[ $k -ge 45 ] && break
		dst="$tmp/loop/$(printf %02d $k)-$(basename "$img")"
		cp "$img" "$dst"
		printf '%*s' $((round + 1)) '' >>"$dst"
		k=$((k + 1))
	done
	round=$((round + 1))
done
rss() { # count
	local store="sqlite:$tmp/rss$1.db"
	"$bin" fleet add --store "$store" -q $(ls "$tmp/loop"/* | head -n "$1") >/dev/null
	/usr/bin/time -v "$bin" fleet run --store "$store" --workers 1 $flags >/dev/null 2>"$tmp/rss$1.txt"
	awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$tmp/rss$1.txt"
}
r5=$(rss 5)
r45=$(rss 45)
awk -v a="$r5" -v b="$r45" 'BEGIN { printf "worker peak RSS: %.0f MiB after 5 images, %.0f MiB after 45 (%.2fx)\n", a / 1024, b / 1024, b / a }'
