#!/usr/bin/env bash
# The server links no evaluation or demo-data code (DESIGN "The house": devtools/ is linked by the CLI, not by
# the server). Proves it on the built archives rather than on CMake's declarations: every symbol that
# facecrowd_lib and facecrowd_server need and do not define themselves must not be one that facecrowd_devtools
# defines, and neither archive may carry a devtools object.
# Usage: server_link_closure.sh LIB.a SERVER.a DEVTOOLS.a   (exit 0 ok, 1 the closure reaches devtools, 2 usage)
set -euo pipefail
if [[ $# -ne 3 ]]; then echo "usage: $0 LIB.a SERVER.a DEVTOOLS.a" >&2; exit 2; fi
lib=$1 server=$2 devtools=$3
for a in "$lib" "$server" "$devtools"; do
  [[ -s $a ]] || { echo "cannot read archive $a: build the project first" >&2; exit 2; }
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Global symbols defined (any type but U/w/v) and needed (U) by a set of archives, one mangled name a line.
defined() { nm -P -g --defined-only "$@" 2>/dev/null | awk 'NF >= 2 && $1 !~ /:$/ {print $1}' | sort -u; }
needed() { nm -P -g --undefined-only "$@" 2>/dev/null | awk 'NF >= 2 && $1 !~ /:$/ {print $1}' | sort -u; }

defined "$lib" "$server" >"$tmp/server_defines"
needed "$lib" "$server" >"$tmp/server_needs_all"
comm -23 "$tmp/server_needs_all" "$tmp/server_defines" >"$tmp/server_needs"
defined "$devtools" >"$tmp/devtools_defines"
[[ -s $tmp/devtools_defines ]] || { echo "no symbols in $devtools: is it the devtools archive?" >&2; exit 2; }
comm -12 "$tmp/server_needs" "$tmp/devtools_defines" >"$tmp/reached"

status=0
if [[ -s $tmp/reached ]]; then
  echo "facecrowd_lib/facecrowd_server need $(wc -l <"$tmp/reached") symbol(s) that only devtools defines:" >&2
  c++filt <"$tmp/reached" | head -20 >&2
  echo "remedy: keep evaluation and demo-data code in src/devtools/ and call it only from src/cli/" >&2
  status=1
fi
devtools_members=$(ar t "$devtools" | sort -u)
for a in "$lib" "$server"; do
  clash=$(comm -12 <(ar t "$a" | sort -u) <(echo "$devtools_members"))
  if [[ -n $clash ]]; then
    echo "$a carries devtools objects: $clash" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "ok: $(wc -l <"$tmp/server_needs") external symbols needed by lib+server, none defined by devtools ($(wc -l <"$tmp/devtools_defines") symbols)"
exit $status
