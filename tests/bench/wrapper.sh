#!/bin/bash
# The wrapper against the emulator alone (called by run.sh).
#   1. its own cost: libvirt's q35 command line (~30 -device) through the
#      wrapper to /bin/true, against /bin/true given the same argv;
#   2. a real QEMU start (TCG, then quit over QMP) with the openEuler
#      balloon -set: through the wrapper (JSON device, rescued) against
#      QEMU given the key=value form directly.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$repo/build} ROUNDS=${ROUNDS:-200}
bench=$BUILD/bench/bench
wrapper=$BUILD/qemu-kvm
qemu=$(command -v qemu-system-x86_64 || true)
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root"
mapfile -t args <"$repo/tests/data/argv/q35-nvme-balloon.args"

echo "Wrapper, µs, median (p10-p90) over $ROUNDS rounds:"
echo
echo "| what | direct | through the wrapper | difference | ratio |"
echo "|---|---|---|---|---|"
res=$(VMHOOKS_ROOT=$work/root VMHOOKS_EMULATOR=/bin/true "$bench" "$ROUNDS" \
    direct - /bin/true "${args[@]}" ::: wrapper - "$wrapper" "${args[@]}")
d=($(awk '$1 == "direct"' <<<"$res")) w=($(awk '$1 == "wrapper"' <<<"$res"))
echo "| exec of /bin/true with libvirt's q35 argv (${#args[@]} args) | ${d[1]} (${d[2]}-${d[3]}) | ${w[1]} (${w[2]}-${w[3]}) | $((w[1] - d[1])) | ${w[4]}x |"

if [ -n "$qemu" ]; then
    printf '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n' >"$work/qmp"
    common=(-machine pc -accel tcg -m 64 -nodefaults -no-user-config -display none -qmp stdio)
    r=$((ROUNDS / 4 > 10 ? ROUNDS / 4 : 10))
    res=$(VMHOOKS_ROOT=$work/root VMHOOKS_EMULATOR=$qemu "$bench" "$r" \
        direct "$work/qmp" "$qemu" "${common[@]}" -device virtio-balloon-pci,id=balloon0 \
            -set device.balloon0.deflate-on-oom=on ::: \
        wrapper "$work/qmp" "$wrapper" "${common[@]}" -device '{"driver":"virtio-balloon-pci","id":"balloon0"}' \
            -set device.balloon0.deflate-on-oom=on)
    d=($(awk '$1 == "direct"' <<<"$res")) w=($(awk '$1 == "wrapper"' <<<"$res"))
    echo "| QEMU 7.2 start + quit, balloon -set rescued ($r rounds) | ${d[1]} (${d[2]}-${d[3]}) | ${w[1]} (${w[2]}-${w[3]}) | $((w[1] - d[1])) | ${w[4]}x |"
fi
echo
# the wrapper's own instructions, up to its execv of the emulator
VMHOOKS_ROOT=$work/root VMHOOKS_EMULATOR=/bin/true valgrind --tool=callgrind --dump-before=execv \
    --callgrind-out-file="$work/cg.out" "$wrapper" "${args[@]}" >/dev/null 2>&1 || true
c=$(cat "$work"/cg.out* | awk '/^summary:/ { s += $2 } END { print s }')
t=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null /bin/true "${args[@]}" 2>&1 | sed -n 's/.*Collected : //p')
echo "Instructions (callgrind), q35 argv: the wrapper up to its exec $c; /bin/true alone $t."
echo
