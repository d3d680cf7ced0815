#!/usr/bin/env bash
# Prepares bench/device/scaling.mjs for a many-core machine without Node (the `device` tool's machine):
# builds the package, packs Node + dist/ into .benchpack/ (../shared/tools/pack-node-bench.sh), puts the
# script beside them, and prints the one command to run there (it writes scaling.json into $OUT). Run it in
# the checkout the session started in: that is the tree the device tool sends, with .benchpack carried.
# Locally, `scripts/device-scaling.sh --try` also runs that command here, from an unpacked copy in a temp
# folder, with the threads this machine has — the check that the pack is complete before device time is spent.
set -euo pipefail
cd "$(dirname "$0")/.."
pack=../shared/tools/pack-node-bench.sh
[ -x "$pack" ] || { echo "device-scaling: $pack not found (it ships with the workplace, beside the checkout)" >&2; exit 1; }
grep -qx '/.benchpack/' .git/info/exclude 2>/dev/null || echo '/.benchpack/' >> "$(git rev-parse --git-path info/exclude)"
npm run build >/dev/null
"$pack" >/dev/null
cp bench/device/scaling.mjs .benchpack/
run='xz -dc .benchpack/node.xz > /tmp/node && chmod +x /tmp/node && tar -C /tmp -xzf .benchpack/pkg.tgz && cp .benchpack/scaling.mjs /tmp/pkg/ && cd /tmp/pkg && /tmp/node scaling.mjs --out=$OUT/scaling.json'
echo "packed: $(du -sh .benchpack | cut -f1) in .benchpack/ (carry it: carry [\".benchpack\"])"
echo "command: $run"
if [ "${1:-}" = "--try" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  cp -r .benchpack "$tmp/"
  (cd "$tmp" && OUT=$tmp && export OUT && bash -c "${run//\/tmp/$tmp} --quick --threads=1,2" && ls -la "$tmp/scaling.json")
fi
