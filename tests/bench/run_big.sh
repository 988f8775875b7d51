#!/bin/sh
# run_big.sh: heaps bigger than memory (formats/heapdump-binary.md §9). tests/bench/gen_binary
# writes a heap of N objects and 3N references straight into an unanalysed index; `heaptool
# index --memory` completes it out of core; then each command answers from the result. Prints
# the time, peak RSS and CPU of each step, the file sizes, and the machine's load.
# BIG_SIZES picks the tiers (default "10000000"; the issue's target is BIG_SIZES=300000000,
# which needs about 55 GB free in BENCH_DIR and took 15 minutes: formats/heapdump-binary.md
# §9.3); BIG_MEMORY the build's budget in MiB (default 10240: peak RSS stays under 12 GB);
# BIG_COMMAND_MEMORY the anonymous memory a command may take, in MiB (default 12288: prlimit
# --data, which the mapped index does not count, so a command that needs more fails instead of
# pushing the machine out of memory). Files are removed after.
set -eu
. "$(dirname "$0")/lib.sh"
export HEAPTOOL_INDEX=never # the indexes here are made explicitly

for n in ${BIG_SIZES:-10000000}; do
    raw="$D/big-$n.raw.hdx"
    out="$D/big-$n.hdx"
    echo "-- $n objects, $((n * 3)) references asked, straight into the binary form"
    gen=$(measure 1 "$B/gen_binary" "$n" $((n * 3)) "$raw")
    echo "$gen $(stat -c %s "$raw")" | awk '{ printf "  gen_binary        %8.1f s %6.0f MiB  cpu %7.1f s   %6.0f MiB unanalysed\n", $1, $2, $3, $4 / 1048576 }'
    build=$(measure 1 "$HEAPTOOL" index --memory "${BIG_MEMORY:-10240}" -o "$out" "$raw")
    echo "$build $(stat -c %s "$out")" | awk '{ printf "  index --memory    %8.1f s %6.0f MiB  cpu %7.1f s   %6.0f MiB index\n", $1, $2, $3, $4 / 1048576 }'
    rm -f "$raw"
    cap=$((${BIG_COMMAND_MEMORY:-12288} * 1048576))
    id=$(prlimit --data="$cap" "$HEAPTOOL" top --json -n 1 "$out" | sed 's/.*"top":\[{"id":\([0-9]*\).*/\1/')
    for c in stats top show path cycles leaks; do
        case $c in
        show | path) set -- "$c" "$out" "$id" ;;
        *) set -- "$c" "$out" ;;
        esac
        # leaks exits 1 when it found some: an answer too
        if r=$(measure 1 sh -c 'prlimit --data="$0" "$@"; [ $? -le 1 ]' "$cap" "$HEAPTOOL" "$@"); then
            echo "$r" | awk -v c="$c" '{ printf "  %-17s %8.2f s %6.0f MiB  cpu %7.2f s\n", c, $1, $2, $3 }'
        else
            echo "  $c: failed (over ${BIG_COMMAND_MEMORY:-12288} MiB of anonymous memory?)"
        fi
    done
    rm -f "$out"
done
echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg)"
