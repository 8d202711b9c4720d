#!/usr/bin/env bash
# Refresh the JavaScript the site serves itself (so widgets render offline):
# require.js and @jupyter-widgets/html-manager's embed-amd.js with its fonts.
# Run by hand when upgrading; the files are committed under _vendor/js/.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
(cd "$tmp" && npm pack --silent requirejs@2.3.7 @jupyter-widgets/html-manager@1.0.15 >/dev/null)
for f in "$tmp"/*.tgz; do tar xzf "$f" -C "$tmp" && mv "$tmp/package" "$tmp/$(basename "$f" .tgz)"; done
mkdir -p _vendor/js
cp "$tmp"/requirejs-*/require.js _vendor/js/
dist=$(echo "$tmp"/jupyter-widgets-html-manager-*/dist)
cp "$dist"/embed-amd.js "$dist"/*.woff2 "$dist"/*.woff "$dist"/*.ttf "$dist"/embed.js.LICENSE.txt _vendor/js/
rm -rf "$tmp"
echo "vendored into _vendor/js/"
