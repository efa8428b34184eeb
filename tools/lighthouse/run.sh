#!/usr/bin/env bash
# make lighthouse: Lighthouse's mobile preset on every public page of the portal
# (the local stack must be running: make run). Prints each page's four scores and the bytes
# transferred on a first visit, and fails when performance < 90, accessibility < 95, best
# practices < 95, or a page (the form and statistics with their maps' boundaries) weighs
# more than 150 KB.
set -euo pipefail
cd "$(dirname "$0")"
PORTAL="${LAPOR_PORTAL_URL:-http://127.0.0.1:8000}"
INTAKE="${LAPOR_INTAKE_URL:-http://127.0.0.1:8001}"
OUT="${LIGHTHOUSE_OUT:-../../var/lighthouse}"
mkdir -p "$OUT"
TID=$(curl -fsS "$INTAKE/api/v1/complaints?limit=1" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r[0]["tracking_id"] if r else "")')
PAGES=("home:$PORTAL/" "form:$PORTAL/lapor" "follow:$PORTAL/lacak" "public:$PORTAL/publik"
  "stats:$PORTAL/statistik" "help:$PORTAL/bantuan" "privacy:$PORTAL/privasi"
  "access:$PORTAL/aksesibilitas" "contact:$PORTAL/kontak")
[ -n "$TID" ] && PAGES+=("status:$PORTAL/laporan/$TID")
FAILED=0
for entry in "${PAGES[@]}"; do
  name="${entry%%:*}"; url="${entry#*:}"
  CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}" ./node_modules/.bin/lighthouse "$url" \
    --quiet --output=json --output-path="$OUT/$name.json" \
    --only-categories=performance,accessibility,best-practices,seo \
    --chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync" >/dev/null
  python3 - "$OUT/$name.json" "$name" <<'PY' || FAILED=1
import json, sys
report = json.load(open(sys.argv[1]))
scores = {k: round(v["score"] * 100) for k, v in report["categories"].items()}
weight = report["audits"]["total-byte-weight"]["numericValue"] / 1024
print(f"{sys.argv[2]:8s} " + "  ".join(f"{k} {v}" for k, v in scores.items()) + f"  {weight:.0f} KB")
ok = scores["performance"] >= 90 and scores["accessibility"] >= 95 and scores["best-practices"] >= 95
ok = ok and weight <= 150
sys.exit(0 if ok else 1)
PY
done
exit $FAILED
