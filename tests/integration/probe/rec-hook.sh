#!/bin/sh
# Recording libvirt hook, for probe/hook-facts.sh only (never install on a
# real host).  Appends what it sees to $R/log; behaviour switches are files:
#   $R/ctl/fail.OP.SUBOP   exit with the number in the file after writing
#                          the lines of $R/ctl/msg.OP.SUBOP to stderr
#                          (fail.OP.SUBOP.HOOK: only the hook named HOOK,
#                          e.g. "qemu" or "rec" for qemu.d/rec)
#   $R/ctl/noread          do not read stdin
#   $R/ctl/bg.stderr       leave a `sleep 5` child holding stderr
#   $R/ctl/bg.stdout       leave a `sleep 5` child holding stdout
#   $R/ctl/slow            sleep that many seconds before reading stdin
R=/run/hookrec
# the shell's fds before it opens anything else (no command substitution yet);
# fd 10 is dash's own descriptor on this script
ls -l /proc/$$/fd >"$R/fds.$$" 2>&1
me=$(basename "$0")
fds=$(sed 1d "$R/fds.$$" | awk '{print $(NF-2), $(NF-1), $NF}' | tr '\n' ';'); rm -f "$R/fds.$$"
stdin=$(readlink /proc/$$/fd/0)
n=$(ls "$R/xml" 2>/dev/null | wc -l); n=$(printf '%02d' $((n + 1)))
key="$2.$3"
[ -e "$R/ctl/slow" ] && sleep "$(cat "$R/ctl/slow")"
if [ -e "$R/ctl/noread" ]; then
    xml="(stdin not read)"
    : >"$R/xml/$n-$1-$2-$3.xml"
else
    cat >"$R/xml/$n-$1-$2-$3.xml"
    xml="$(wc -c <"$R/xml/$n-$1-$2-$3.xml") bytes"
fi
f=$R/xml/$n-$1-$2-$3.xml
pidf=/run/libvirt/qemu/$1.pid
if [ -e "$pidf" ]; then
    p=$(cat "$pidf")
    if kill -0 "$p" 2>/dev/null; then pidinfo="exists pid=$p alive comm=$(cat /proc/$p/comm)"; else pidinfo="exists pid=$p NOT alive"; fi
else
    pidinfo="absent"
fi
{
    echo "CALL #$n [$me] argv: '$1' '$2' '$3' '$4' (argc=$#) t=$(date +%T.%N | cut -c1-12)"
    echo "   stdin=$stdin xml=$xml aliases=$(grep -c '<alias ' "$f") seclabel=$(grep -o '<seclabel[^>]*>' "$f" | head -2 | tr '\n' ' ') label=$(grep -o '<label>[^<]*</label>' "$f" | head -1) imagelabel=$(grep -o '<imagelabel>[^<]*</imagelabel>' "$f" | head -1) vmhooks-md=$(grep -c 'urn:vmhooks:policy:1' "$f") domain-id=$(grep -o "<domain [^>]*>" "$f" | head -1)"
    echo "   pidfile: $pidinfo"
} >>"$R/log"
{
    echo "CALL #$n [$me] '$1' '$2' '$3' '$4'"
    echo "   uid/gid: $(id)  $(grep -E '^(Uid|Gid|Groups|CapEff|NoNewPrivs)' /proc/$$/status | tr -s '\t\n' '  ')"
    echo "     cwd=$(pwd)  umask=$(umask)  ppid=$PPID ($(cat /proc/$PPID/comm))"
    echo "   env: $(tr '\0' ' ' </proc/$$/environ)"
    echo "   fds: $fds"
    echo "   sid/pgid: $(ps -o sid=,pgid= -p $$)  tty=$(ps -o tty= -p $$)"
} >>"$R/detail"
if [ -e "$R/ctl/bg.stderr" ]; then sleep 5 >/dev/null </dev/null & fi
if [ -e "$R/ctl/bg.stdout" ]; then sleep 5 2>/dev/null </dev/null & fi
[ -e "$R/ctl/fail.$key.$me" ] && key=$key.$me
if [ -e "$R/ctl/fail.$key" ]; then
    [ -e "$R/ctl/msg.$key" ] && cat "$R/ctl/msg.$key" >&2
    echo "   -> exiting $(cat "$R/ctl/fail.$key")" >>"$R/log"
    exit "$(cat "$R/ctl/fail.$key")"
fi
exit 0
