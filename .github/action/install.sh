#!/usr/bin/env bash
# Install blcheck at the version the action was asked for (INPUT_VERSION), else
# the version of the action's own ref (ACTION_REF: the tag or commit the workflow
# pinned), else the latest release. Writes BLCHECK_BIN to $GITHUB_ENV.
set -euo pipefail
version=${INPUT_VERSION:-${ACTION_REF:-latest}}
case "$version" in
  main|master|"") version=latest ;;
esac
export GOBIN="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/blcheck-bin"
mkdir -p "$GOBIN"
CGO_ENABLED=0 go install "github.com/blcheck/blcheck/cmd/blcheck@${version}"
echo "BLCHECK_BIN=$GOBIN/blcheck" >> "${GITHUB_ENV:-/dev/null}"
"$GOBIN/blcheck" version
