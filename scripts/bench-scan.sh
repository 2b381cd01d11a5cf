#!/usr/bin/env bash
# bench-scan.sh IMAGE [RUNS] — time fwaudit's scan stages on one image.
#
# Runs `fwaudit scan IMAGE --out TMP --quiet` RUNS times (default 5) and
# prints, per run and as the median, the stage timings from report.json's
# stats (extract_ms, analyze_ms, sbom_ms, vulns_ms when the report has it,
# total_ms) and the ratio of the SBOM and vulnerability-matching stages to
# extraction, (sbom+vulns)/extract. While report.json has no vulns_ms,
# sbom_ms covers firmware components, syft, matching and vulns.cdx.json.
# The issue's target is <= 0.50 on the WR841N image.
#
# FWAUDIT selects the binary (default: build ./cmd/fwaudit into a temporary
# folder). Needs jq.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 IMAGE [RUNS]" >&2
	exit 2
fi
image=$1
runs=${2:-5}
command -v jq >/dev/null || { echo "$0: needs jq" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=${FWAUDIT:-}
if [ -z "$bin" ]; then
	root=$(cd "$(dirname "$0")/.." && pwd)
	(cd "$root" && go build -o "$tmp/fwaudit" ./cmd/fwaudit)
	bin=$tmp/fwaudit
fi
# one untimed run so that the embedded vulnerability feed is compiled into
# the cache and the page cache is warm
"$bin" scan "$image" --out "$tmp/warm" --quiet --fail-on none >/dev/null 2>&1 || true

printf '%-4s %9s %9s %9s %9s %9s %7s\n' run extract analyze sbom vulns total ratio
for i in $(seq 1 "$runs"); do
	out=$tmp/run$i
	rc=0
	"$bin" scan "$image" --out "$out" --quiet --fail-on none >/dev/null 2>"$tmp/err" || rc=$?
	if [ ! -s "$out/report.json" ]; then
		echo "$0: run $i failed (exit $rc):" >&2
		cat "$tmp/err" >&2
		exit 1
	fi
	# vulns_ms is 0 while report.json has no such field (matching is then
	# timed inside sbom_ms)
	jq -r --arg i "$i" '.stats as $s
		| ($s.vulns_ms // 0) as $v
		| [$i, $s.extract_ms, $s.analyze_ms, $s.sbom_ms, $v, $s.total_ms]
		| @tsv' "$out/report.json" >>"$tmp/rows"
	tail -n 1 "$tmp/rows" | awk -F'\t' '{
		printf "%-4s %9s %9s %9s %9s %9s %7s\n", $1, $2, $3, $4, $5, $6,
			($2 > 0) ? sprintf("%.2f", ($4 + $5) / $2) : "n/a" }'
done
# medians per column; the ratio of the medians
awk -F'\t' -v n="$runs" '
	{ for (c = 2; c <= 6; c++) v[c, NR] = $c }
	END {
		printf "%-4s", "med"
		for (c = 2; c <= 6; c++) {
			for (i = 1; i <= n; i++) a[i] = v[c, i]
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
			m[c] = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			printf " %9s", m[c]
		}
		if (m[2] > 0) printf " %7.2f\n", (m[4] + m[5]) / m[2]; else printf " %7s\n", "n/a"
	}' "$tmp/rows"
