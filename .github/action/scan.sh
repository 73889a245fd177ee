#!/usr/bin/env bash
# The action's scan step, runnable by hand: expands INPUT_FILES (globs,
# newline- or space-separated), runs blcheck scan --format github on them (which
# annotates the findings and appends a summary to $GITHUB_STEP_SUMMARY), writes
# exit-code to $GITHUB_OUTPUT, and fails as INPUT_FAIL_ON says:
#   listed      exit 1 (listed) fails; 3 (incomplete) is a warning    (default)
#   incomplete  exit 1 and 3 fail
#   never       only exit 2 fails: a bad input means nothing was checked
# Exit 2 (bad input) and 130 (interrupted) always fail.
set -uo pipefail
bin=${BLCHECK_BIN:-blcheck}
fail_on=${INPUT_FAIL_ON:-listed}
case "$fail_on" in
  listed|incomplete|never) ;;
  *) echo "::error title=blcheck::fail-on is \"$fail_on\": use listed, incomplete or never"; exit 2 ;;
esac
shopt -s globstar nullglob
files=()
while read -r -a words; do
  for pattern in "${words[@]}"; do
    matched=( $pattern )
    if [ ${#matched[@]} -eq 0 ]; then
      echo "::error title=blcheck::no file matches $pattern"
      echo "exit-code=2" >> "${GITHUB_OUTPUT:-/dev/null}"
      exit 2
    fi
    files+=( "${matched[@]}" )
  done
done <<< "${INPUT_FILES:-}"
if [ ${#files[@]} -eq 0 ]; then
  echo "::error title=blcheck::the files input is empty: name the newsletters or messages to scan"
  echo "exit-code=2" >> "${GITHUB_OUTPUT:-/dev/null}"
  exit 2
fi
read -r -a args <<< "${INPUT_ARGS:-}"
"$bin" scan --format github "${args[@]}" -- "${files[@]}"
code=$?
echo "exit-code=$code" >> "${GITHUB_OUTPUT:-/dev/null}"
case "$code:$fail_on" in
  0:*) exit 0 ;;
  1:never) echo "::notice title=blcheck::listings found, but fail-on is never"; exit 0 ;;
  1:*) exit 1 ;;
  3:incomplete) exit 3 ;;
  3:*) echo "::warning title=blcheck::the check is incomplete (exit 3): some lists could not be asked; this is not a clean result"; exit 0 ;;
  *) exit "$code" ;;
esac
