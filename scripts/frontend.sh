#!/bin/sh
# Copy the NHS.UK frontend and htmx files the web app serves out of node_modules/ (installed by
# `npm ci` from package-lock.json) into DEST, which STATICFILES_DIRS serves under /static/vendor/.
#
# The NHS.UK stylesheet links its icons as /assets/images/...: rewritten here to a path relative
# to the stylesheet, so the icons are served (and fingerprinted by collectstatic) next to it.
# Source maps are copied too: collectstatic follows each sourceMappingURL and fails without them.
set -eu
DEST="${1:?usage: scripts/frontend.sh DEST}"
NHSUK=node_modules/nhsuk-frontend/dist/nhsuk
HTMX=node_modules/htmx.org/dist

for file in "$NHSUK/nhsuk-frontend.min.css" "$NHSUK/nhsuk-frontend.min.js" "$HTMX/htmx.min.js"; do
  test -f "$file" || { echo "$file is missing: run npm ci --ignore-scripts first." >&2; exit 1; }
done

rm -rf "$DEST"
mkdir -p "$DEST/nhsuk-frontend" "$DEST/htmx"
sed 's#url(/assets/#url(assets/#g' "$NHSUK/nhsuk-frontend.min.css" > "$DEST/nhsuk-frontend/nhsuk-frontend.min.css"
cp "$NHSUK/nhsuk-frontend.min.css.map" "$NHSUK/nhsuk-frontend.min.js" "$NHSUK/nhsuk-frontend.min.js.map" \
  "$DEST/nhsuk-frontend/"
cp -R "$NHSUK/assets" "$DEST/nhsuk-frontend/assets"
cp "$HTMX/htmx.min.js" "$DEST/htmx/"
