#!/usr/bin/env bash
# validate.sh CONTROLLER WORKDIR: prints the controller's OpenAPI document (`tether-controller
# openapi`) into WORKDIR and validates it with @apidevtools/swagger-parser, installed from the npm
# registry into WORKDIR on the first run (a pinned version; Node.js comes with ./dev.sh deps).
set -euo pipefail
controller=$1
workdir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
parser_version=10.1.1

mkdir -p "$workdir"
if [[ ! -f $workdir/node_modules/@apidevtools/swagger-parser/package.json ]] ||
   ! grep -q "\"version\": \"$parser_version\"" "$workdir/node_modules/@apidevtools/swagger-parser/package.json"; then
  npm install --silent --no-audit --no-fund --no-save --prefix "$workdir" "@apidevtools/swagger-parser@$parser_version"
fi
"$controller" openapi >"$workdir/openapi.json"
NODE_PATH="$workdir/node_modules" node "$here/validate.cjs" "$workdir/openapi.json"
