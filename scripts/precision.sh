#!/usr/bin/env bash
# Prints, over every fixture in testdata/firmware and the shared corpus in
# ../shared/firmware, the findings per rule and how many are known true,
# known false (traps) and unlabelled; fails on a known false positive or a
# missing known finding. Labels live in scan/precision_test.go.
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./scan/ -run '^TestPrecision$' -count=1 -v 2>&1 | sed -n '/precision over/,/^---/p;/FAIL\|known/p'
