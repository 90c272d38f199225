# shellcheck shell=sh disable=SC2016,SC2154 # scripts run inside the container; package-test.sh sets the rest
# Sourced by scripts/package-test.sh (KB_PACKAGE_TEST_SYSTEMD=1): boots the test root, with the
# package installed and real data in it, under systemd as PID 1 with systemd-nspawn, and checks
# the packaged units there: klinikbox.service starts at boot with its whole sandbox and answers
# /healthz and /readyz with every shipped plugin running; the main process runs as klinikbox
# with no capabilities, no_new_privs, a seccomp filter, its own user namespace and a /proc
# with hidepid=invisible,subset=pid; `systemd-analyze security` scores at most 2.0 for it and
# for the backup service; the nightly backup timer is enabled and active and its service
# writes a 0600 backup; a restart comes back. Then the container is powered off.
#
# The container shares the host's network (no --private-network): the box listens on
# 127.0.0.1:18443 there as in the chroot steps. It is not registered with systemd-machined
# (--register=no) and stays in the caller's cgroup (--keep-unit), so the host needs no systemd
# as PID 1 and no D-Bus; commands run inside with nsenter into the container's PID 1.
# Uses $chroot_dir, $work, step and fail from package-test.sh.

nspawn_args="${KB_PACKAGE_TEST_NSPAWN_ARGS---register=no --keep-unit}"   # set and empty: nspawn defaults

# Runs a shell script inside the booted container, as root, with a clean environment.
in_box() {
    nsenter -t "$(cat "$work/nspawn.leader")" -a /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -ec "$1"
}

# Powers the container off (SIGTERM to nspawn if it never got a PID 1) and waits for nspawn.
nspawn_stop() {
    pid="$(cat "$work/nspawn.pid")"
    if [ -s "$work/nspawn.leader" ]; then
        in_box 'systemctl --no-block poweroff' >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    else
        kill -TERM "$pid" 2>/dev/null || true
    fi
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 180 ]; do i=$((i + 1)); sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    rc=0; wait "$pid" || rc=$?
    rm -f "$work/nspawn.pid" "$work/nspawn.leader"
    return $rc
}

# Waits (up to $2 seconds) until the script $1 succeeds inside the container.
box_wait() {
    i=0
    while [ $i -lt "$2" ]; do
        in_box "$1" >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$work/nspawn.pid")" 2>/dev/null || return 1
        i=$((i + 1)); sleep 1
    done
    return 1
}

# The unit's status and the end of its journal, on standard error (when a check failed).
box_journal() {
    in_box "systemctl status --no-pager -l $1 || true; journalctl -b --no-pager -n 40 -u $1 || true" >&2 || true
}

# Prints a unit's `systemd-analyze security` exposure and what stays exposed; fails above 2.0.
check_exposure() {
    in_box "systemd-analyze security --no-pager $1" > "$work/security-$1.txt" 2>&1 || true
    score="$(sed -n "s/.*Overall exposure level for $1: \([0-9.]*\).*/\1/p" "$work/security-$1.txt")"
    [ -n "$score" ] || { cat "$work/security-$1.txt" >&2; fail "systemd-analyze security $1 gave no score"; }
    echo "systemd-analyze security $1 under systemd: $score; exposed:"
    grep '✗' "$work/security-$1.txt" | sed 's/  */ /g; s/^✗ /    /'
    awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { cat "$work/security-$1.txt" >&2; fail "$1: exposure $score > 2.0"; }
}

box_ready='[ "$(systemctl is-active klinikbox)" = active ] && curl -skf https://127.0.0.1:18443/readyz > /tmp/readyz.json'

systemd_step() {
    step "boot the installed root under systemd (systemd-nspawn) and check the packaged units"
    sd_start=$(date +%s); leader=
    command -v systemd-nspawn >/dev/null || fail "systemd-nspawn missing on the host: apt-get install systemd-container"
    # A base root cached without systemd (KB_PACKAGE_TEST_BASE) gets it here.
    in_root 'dpkg -s systemd-sysv dbus >/dev/null 2>&1 || apt-get install -y -q systemd systemd-sysv dbus >/tmp/systemd.log 2>&1 \
               || { cat /tmp/systemd.log; exit 1; }'
    for m in proc sys; do umount "$chroot_dir/$m"; done   # nspawn mounts its own
    # shellcheck disable=SC2086 # the options are words
    systemd-nspawn --quiet --directory="$chroot_dir" --machine=kb-package-test --boot --console=read-only \
        $nspawn_args > "$work/nspawn.log" 2>&1 &
    echo $! > "$work/nspawn.pid"
    i=0
    while [ $i -lt 120 ]; do
        leader="$(ps -o pid=,comm= --ppid "$(cat "$work/nspawn.pid")" | awk '$2 == "systemd" { print $1 }')"
        [ -n "$leader" ] && break
        kill -0 "$(cat "$work/nspawn.pid")" 2>/dev/null || { cat "$work/nspawn.log" >&2; fail "systemd-nspawn exited"; }
        i=$((i + 1)); sleep 1
    done
    [ -n "$leader" ] || { cat "$work/nspawn.log" >&2; fail "no systemd in the container"; }
    echo "$leader" > "$work/nspawn.leader"
    box_wait 'case "$(systemctl is-system-running)" in running|degraded) ;; *) exit 1 ;; esac' 300 \
        || { cat "$work/nspawn.log" >&2; fail "the container's systemd did not finish booting"; }
    in_box 'systemctl --failed --no-legend --plain | grep . && echo "(failed units above; not klinikbox)" || true'
    box_wait "$box_ready" 180 || { box_journal klinikbox; fail "klinikbox.service did not become active and ready under systemd"; }

    # Started at boot by the package's enablement, with every shipped plugin running.
    in_box 'grep -q "\"database\" *: *\"ok\"" /tmp/readyz.json
            for p in booking checkin efrikort video vardkontakter; do
                grep -q "{\"id\" *: *\"$p\"[^}]*\"state\" *: *\"running\"" /tmp/readyz.json || { echo "plugin $p: $(cat /tmp/readyz.json)"; exit 1; }
            done
            [ "$(curl -sk -o /dev/null -w "%{http_code}" https://127.0.0.1:18443/healthz)" = 200 ]' \
        || { box_journal klinikbox; fail "the box under systemd: /readyz or /healthz"; }

    # The sandbox as applied to the running process, not only as configured.
    in_box 'pid=$(systemctl show -P MainPID klinikbox); s=/proc/$pid/status
            echo "MainPID $pid: $(grep -E "^(Uid|Gid|NoNewPrivs|Seccomp|CapEff|CapBnd):" $s | tr -s "\t\n" "  ")"
            [ "$(awk "/^Uid:/ { print \$2 }" $s)" = "$(id -u klinikbox)" ] && [ "$(awk "/^Gid:/ { print \$2 }" $s)" = "$(id -g klinikbox)" ]
            grep -q "^NoNewPrivs:[[:space:]]*1$" $s && grep -q "^Seccomp:[[:space:]]*2$" $s
            grep -q "^CapEff:[[:space:]]*0*$" $s && grep -q "^CapBnd:[[:space:]]*0*$" $s
            [ "$(wc -l < /proc/$pid/uid_map)" = 2 ]              # PrivateUsers: root and klinikbox only
            grep " /proc " /proc/$pid/mountinfo | grep -q "hidepid=invisible,subset=pid"
            echo "its /proc: $(grep " /proc " /proc/$pid/mountinfo | sed "s/.* - //")"' \
        || fail "the box's process is not sandboxed as the unit says"
    in_box 'systemctl show --all klinikbox' > "$work/klinikbox.show"
    for p in User=klinikbox Group=klinikbox NoNewPrivileges=yes ProtectSystem=strict PrivateUsers=yes \
             ProtectProc=invisible ProcSubset=pid MemoryDenyWriteExecute=yes RestrictNamespaces=yes \
             SystemCallArchitectures=native CapabilityBoundingSet= AmbientCapabilities=; do
        grep -qx "$p" "$work/klinikbox.show" || fail "systemctl show klinikbox: no $p"
    done
    grep -q '^SystemCallFilter=.*openat' "$work/klinikbox.show" || fail "systemctl show klinikbox: no SystemCallFilter"
    check_exposure klinikbox.service
    check_exposure klinikbox-backup.service

    # Admin commands through /usr/bin/klinikbox while the service runs.
    in_box 'klinikbox user list | grep -q "^anna"' || fail "klinikbox user list under systemd"

    # The nightly backup: the timer is enabled and waiting; its service writes a 0600 backup.
    in_box '[ "$(systemctl is-enabled klinikbox-backup.timer)" = enabled ] && [ "$(systemctl is-active klinikbox-backup.timer)" = active ]
            systemctl list-timers --no-pager --all klinikbox-backup.timer | grep -q klinikbox-backup.service
            ls /var/backups/klinikbox > /tmp/before
            systemctl start klinikbox-backup.service
            [ "$(systemctl show -P Result klinikbox-backup.service)" = success ]
            f=$(ls /var/backups/klinikbox | grep -vxF -f /tmp/before | grep nightly)
            [ "$(stat -c %U:%a "/var/backups/klinikbox/$f")" = klinikbox:600 ]' \
        || { box_journal klinikbox-backup; fail "the backup timer or service under systemd"; }

    # A restart stops the box cleanly and brings it back.
    old="$(in_box 'systemctl show -P MainPID klinikbox')"
    in_box 'systemctl restart klinikbox' || fail "systemctl restart klinikbox"
    box_wait "$box_ready"' && [ "$(systemctl show -P MainPID klinikbox)" != '"$old"' ]' 180 \
        || { box_journal klinikbox; fail "klinikbox did not come back after a restart"; }
    [ "$(in_box 'systemctl show -P Result klinikbox')" = success ] || fail "the restart did not stop the box cleanly"

    in_box 'journalctl -b --no-pager -o short-iso -u klinikbox -u klinikbox-backup' > "$work/journal.txt"
    grep -E 'Started klinikbox.service|listening on|Finished klinikbox-backup.service' "$work/journal.txt"
    nspawn_stop || { cat "$work/nspawn.log" >&2; fail "the container did not power off cleanly"; }
    mount -t proc proc "$chroot_dir/proc"
    mount -t sysfs sys "$chroot_dir/sys"
    echo "systemd step: $(($(date +%s) - sd_start)) s"
}
