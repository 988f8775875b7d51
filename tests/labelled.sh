#!/bin/sh
# labelled.sh LABEL COMMAND...: runs COMMAND with every line it prints (stdout and stderr)
# prefixed by "LABEL| ", so that two parts of make check running side by side stay readable;
# exits with COMMAND's status.
label=$1
shift
status=$(mktemp) || exit 2
trap 'rm -f "$status"' EXIT
{
    "$@" 2>&1
    echo $? >"$status"
} | sed -u "s/^/$label| /"
exit "$(cat "$status")"
