#!/usr/bin/env bash
# hostile.sh — build the crafted inputs of issue 13 (internal/hostile) at
# full scale and run `fwaudit scan --out` on each with the default limits,
# printing wall time, peak RSS, exit status, the bound anomalies reported
# and whether a work folder was left in the temp dir. The issue asks for
# each case to end with a report in under 60 s and 1 GB.
#
#   scripts/hostile.sh [fwaudit-binary]     (HOSTILE_FLAGS adds scan flags)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$bin" ]; then
	bin=$work/fwaudit
	go build -o "$bin" ./cmd/fwaudit
fi
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }
go run ./internal/hostile/gen -out "$work/cases" >/dev/null
tmp=$work/tmp
mkdir -p "$tmp"
printf '%-20s %8s %7s %9s %4s %5s %s\n' case wall_s cpu_s peak_MB exit left bounds
for f in "$work"/cases/*.bin; do
	name=$(basename "$f" .bin)
	out=$work/out/$name
	rc=0
	TMPDIR=$tmp /usr/bin/time -v -o "$work/time.txt" "$bin" scan "$f" --out "$out" --no-vulns --quiet ${HOSTILE_FLAGS:-} \
		>/dev/null 2>"$work/err.txt" || rc=$?
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
	cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u+s}' "$work/time.txt")
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/time.txt")
	left=$(find "$tmp" -mindepth 1 -maxdepth 1 | wc -l)
	anoms=-
	if [ -f "$out/report.json" ]; then
		anoms=$(python3 -c '
import json,sys,collections
r=json.load(open(sys.argv[1]))
c=collections.Counter(f["rule"] for f in r["findings"] if f["rule"].startswith("extraction-anomaly/") and f["rule"].split("/")[1] in ("limit","time-limit","layer-limit","directory-loop","duplicate-entry","duplicate-blob"))
fails=[a["analyzer"] for a in r["analyzers"]["failures"]]
parts=["%sx%d" % (k.split("/")[1], v) for k, v in sorted(c.items())]
print(",".join(parts) + (" failures:" + ",".join(fails) if fails else "") + " layers:%d" % len(r["layers"]))
' "$out/report.json" || echo report-unreadable)
	else
		anoms="NO REPORT: $(head -c 200 "$work/err.txt")"
	fi
	printf '%-20s %8.1f %7s %9s %4s %5s %s\n' "$name" "$wall" "$cpu" "$rss" "$rc" "$left" "$anoms"
	rm -rf "${tmp:?}"/* "$out"
done
