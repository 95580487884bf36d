#!/usr/bin/env bash
# Renders a mixprec-compare report.html to a PNG with headless Chromium, so that a person can
# look at the report where no browser is at hand. Installs chromium when it is missing.
# Usage: scripts/render-report.sh [report.html] [out.png]   (default: build/compare/report.html
# to build/compare/report.png)
set -euo pipefail
cd "$(dirname "$0")/.."
html="$(realpath "${1:-build/compare/report.html}")"
png="${2:-${html%.html}.png}"
if ! command -v chromium >/dev/null; then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium
fi
# The page is one column of charts and tables: a tall window holds the charts and the start of
# the tables.
chromium --headless --disable-gpu --no-sandbox --hide-scrollbars --window-size=1400,4200 \
  --screenshot="$(realpath -m "$png")" "file://$html" 2>/dev/null
echo "wrote $png"
