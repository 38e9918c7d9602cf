#!/usr/bin/env bash
# Vendor MathJax 3 into _static/mathjax/ so the built book renders maths offline (no CDN).
# Takes the npm package `mathjax` (Apache-2.0) through `npm pack` and keeps only what the book loads:
# the all-in-one TeX component (every TeX extension built in, so nothing is fetched lazily), the CommonHTML
# woff fonts it reads relative to its own location, and the licence. About 1.7 MB on disk.
# Usage: tools/vendor_mathjax.sh [VERSION]   (run from anywhere; rewrites _static/mathjax/)
set -euo pipefail
version="${1:-3.2.2}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/_static/mathjax"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "mathjax@$version" >/dev/null && tar xzf "mathjax-$version.tgz")
src="$tmp/package/es5"
rm -rf "$dest"
mkdir -p "$dest/output/chtml/fonts"
cp "$src/tex-chtml-full.js" "$dest/"
cp -r "$src/output/chtml/fonts/woff-v2" "$dest/output/chtml/fonts/"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
echo "mathjax@$version: es5/tex-chtml-full.js and output/chtml/fonts/woff-v2 from the npm package" > "$dest/VERSION"
du -sh "$dest"
