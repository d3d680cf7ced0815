#!/usr/bin/env bash
# Prepares bench/device/scaling.mjs for a many-core machine without Node (the `device` tool's machine):
# builds the package, packs Node + dist/ into .benchpack/ (../shared/tools/pack-node-bench.sh), puts the
# script beside them, and prints the one command to run there (it writes scaling.json into $OUT). Run it in
# the checkout the session started in: that is the tree the device tool sends, with .benchpack carried.
#   --compare=<git ref>  also builds that ref (in a temporary worktree) and packs it as .benchpack/ref.tgz;
#                        the printed command then runs the same script on both builds, one after the other,
#                        on the same machine (scaling.json and scaling-ref.json): before/after in one call.
#   --try                runs the printed command here, from an unpacked copy in a temp folder, with the
#                        threads this machine has — the check that the pack is complete before device time is spent.
set -euo pipefail
cd "$(dirname "$0")/.."
pack=../shared/tools/pack-node-bench.sh
[ -x "$pack" ] || { echo "device-scaling: $pack not found (it ships with the workplace, beside the checkout)" >&2; exit 1; }
try=0; ref=""
for a in "$@"; do
  case "$a" in
    --try) try=1 ;;
    --compare=*) ref="${a#--compare=}" ;;
    *) echo "device-scaling: unknown argument '$a'; expected --try or --compare=<git ref>" >&2; exit 2 ;;
  esac
done
grep -qx '/.benchpack/' .git/info/exclude 2>/dev/null || echo '/.benchpack/' >> "$(git rev-parse --git-path info/exclude)"
npm run build >/dev/null
"$pack" >/dev/null
cp bench/device/scaling.mjs .benchpack/
rm -f .benchpack/ref.tgz
run='xz -dc .benchpack/node.xz > /tmp/node && chmod +x /tmp/node && tar -C /tmp -xzf .benchpack/pkg.tgz && cp .benchpack/scaling.mjs /tmp/pkg/ && (cd /tmp/pkg && /tmp/node scaling.mjs --out=$OUT/scaling.json)'
if [ -n "$ref" ]; then
  git rev-parse --verify --quiet "$ref^{commit}" >/dev/null || { echo "device-scaling: --compare=$ref is not a commit of this repository" >&2; exit 2; }
  wt=$(mktemp -d); stage=$(mktemp -d)
  trap 'git worktree remove --force "$wt" >/dev/null 2>&1 || true; rm -rf "$wt" "$stage"' EXIT
  git worktree add --detach "$wt" "$ref" >/dev/null 2>&1
  ln -s "$(pwd)/node_modules" "$wt/node_modules"
  (cd "$wt" && npm run build >/dev/null)
  mkdir -p "$stage/pkg-ref/node_modules/odecomp"
  cp -r "$wt/dist" "$wt/package.json" "$stage/pkg-ref/node_modules/odecomp/"
  cp bench/device/scaling.mjs "$stage/pkg-ref/" # this checkout's script, so both builds run the same cases
  tar -C "$stage" -czf .benchpack/ref.tgz pkg-ref
  run="$run"' && tar -C /tmp -xzf .benchpack/ref.tgz && (cd /tmp/pkg-ref && /tmp/node scaling.mjs --out=$OUT/scaling-ref.json)'
  echo "compare: $ref ($(git rev-parse --short "$ref")) packed as .benchpack/ref.tgz"
fi
echo "packed: $(du -sh .benchpack | cut -f1) in .benchpack/ (carry it: carry [\".benchpack\"])"
echo "command: $run"
if [ "$try" = 1 ]; then
  tmp=$(mktemp -d)
  cp -r .benchpack "$tmp/"
  cmd="${run//\/tmp/$tmp}"
  (cd "$tmp" && OUT=$tmp && export OUT && bash -c "${cmd//scaling.mjs --out/scaling.mjs --quick --out}" && ls -la "$tmp"/scaling*.json)
  rm -rf "$tmp"
fi
