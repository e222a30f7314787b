#!/usr/bin/env bash
# Refreshes the vendored browser assets from the npm registry: pinned
# releases, unmodified, with their licence files. The server embeds them at
# compile time (src/web/assets.rs), so building never needs npm or a network.
#
#   bash assets/update.sh            # fetch the versions below
# To upgrade, change a version here, run the script, rebuild, and run the
# browser tests (tests/api/browser_graphiql.rs, browser_console.rs).
set -euo pipefail
cd "$(dirname "$0")"

GRAPHIQL=4.1.2   # the last major that ships a standalone (UMD) bundle; graphql-ws included
REACT=18.3.1     # the last major that ships UMD builds (GraphiQL 4 takes React 18 or 19)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() { # package version -> unpacked in $work/<package>
  (cd "$work" && npm pack --silent "$1@$2" >/dev/null && mkdir "$1" && tar xzf "$1-$2.tgz" -C "$1")
}

fetch graphiql "$GRAPHIQL"
fetch react "$REACT"
fetch react-dom "$REACT"

rm -rf vendor && mkdir -p vendor
cp "$work/graphiql/package/graphiql.min.js" vendor/graphiql.min.js
cp "$work/graphiql/package/graphiql.min.css" vendor/graphiql.min.css
cp "$work/graphiql/package/LICENSE" vendor/LICENSE.graphiql
cp "$work/react/package/umd/react.production.min.js" vendor/react.production.min.js
cp "$work/react/package/LICENSE" vendor/LICENSE.react
cp "$work/react-dom/package/umd/react-dom.production.min.js" vendor/react-dom.production.min.js
cp "$work/react-dom/package/LICENSE" vendor/LICENSE.react-dom
# A source-map comment would make browsers ask for a file we do not serve.
sed -i -e '/^\/\/# sourceMappingURL=/d' vendor/*.js
# Served to browsers that accept gzip (all of them): a quarter of the bytes.
for f in vendor/*.js vendor/*.css; do gzip -9 -n -k "$f"; done
printf 'graphiql %s\nreact %s\nreact-dom %s\n' "$GRAPHIQL" "$REACT" "$REACT" > vendor/VERSIONS
ls -l vendor
