#!/usr/bin/env python3
"""Where a process's resident memory is, from /proc/PID/smaps, for scripts/bench.sh:

  bench_smaps.py PID    ->  one line: "files X MiB, main heap X, malloc arenas X (N),
                            thread stacks X (N), other anonymous X"

files are the binary, the libraries and the plugins (mapped, shared with the page cache);
the main heap is [heap] (the main thread's arena); glibc's other arenas are anonymous
mappings that start on a 64 MiB boundary (HEAP_MAX_SIZE on 64-bit); thread stacks are
anonymous mappings of the default stack size right after a guard page. The rest
(SQLite's large blocks, mmapped allocations, TLS buffers) is "other anonymous".
"""
import re
import sys

ARENA_ALIGN = 64 << 20


def main():
    pid = sys.argv[1]
    stack_kib = 8192
    try:
        with open(f"/proc/{pid}/limits") as f:
            for line in f:
                if line.startswith("Max stack size"):
                    v = line.split()[3]
                    if v.isdigit():
                        stack_kib = int(v) // 1024
    except OSError:
        pass
    maps = []
    cur = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$", line)
            if m:
                cur = {"start": int(m[1], 16), "end": int(m[2], 16), "perms": m[3], "inode": int(m[4]),
                       "name": m[5].strip(), "rss": 0}
                maps.append(cur)
            elif line.startswith("Rss:") and cur is not None:
                cur["rss"] = int(line.split()[1])
    kib = {"files": 0, "heap": 0, "arenas": 0, "stacks": 0, "other": 0}
    arenas = stacks = 0
    prev = None
    for m in maps:
        size_kib = (m["end"] - m["start"]) // 1024
        if m["inode"] != 0 or (m["name"] and not m["name"].startswith("[") and m["name"] != ""):
            kib["files"] += m["rss"]
        elif m["name"] == "[heap]":
            kib["heap"] += m["rss"]
        elif m["name"].startswith("["):
            kib["other"] += m["rss"]  # [stack] of the main thread, [vdso], [vvar]
        elif m["start"] % ARENA_ALIGN == 0 and m["perms"].startswith("rw"):
            kib["arenas"] += m["rss"]
            arenas += 1
        elif (size_kib == stack_kib and prev is not None and prev["perms"].startswith("---")
              and prev["end"] == m["start"]):
            kib["stacks"] += m["rss"]
            stacks += 1
        else:
            kib["other"] += m["rss"]
        prev = m
    mib = {k: v / 1024 for k, v in kib.items()}
    print(f"files {mib['files']:.1f} MiB, main heap {mib['heap']:.1f}, malloc arenas {mib['arenas']:.1f} ({arenas}), "
          f"thread stacks {mib['stacks']:.1f} ({stacks}), other anonymous {mib['other']:.1f}")


if __name__ == "__main__":
    main()
