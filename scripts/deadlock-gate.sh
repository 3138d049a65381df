#!/usr/bin/env bash
# scripts/deadlock-gate.sh (installed as bin/lockgraph-gate): runs a command under lockgraph's eyes and
# fails when lockgraph found anything or the command hung. Meant for CI: a job that used to hang until
# its time-out now fails fast, with a table of what was found and an SVG per report beside the logs.
#
#   scripts/deadlock-gate.sh [--timeout S] [--dir D] [--dump-signal N] [--keep-going]
#                            [--baseline FILE] [--write-baseline FILE] -- COMMAND [ARG...]
#
#   --timeout S       seconds COMMAND may run (default 600). When it outlives them, the gate sends
#                     signal N (the dump signal) to COMMAND's process group, so that lockgraph writes
#                     the wait-for graph of the hang into D; waits up to 3 s; then sends SIGKILL.
#   --dir D           where lockgraph writes its reports (report_dir). Default: ./lockgraph-reports,
#                     emptied of earlier lockgraph-* files first. With --dir, files already in D are
#                     kept but not counted.
#   --dump-signal N   the signal for dump_signal=N (default 12, SIGUSR2); 0 = do not pass dump_signal,
#                     and send SIGTERM on time-out.
#   --keep-going      report-only mode: reports are listed but do not fail the gate (the exit status is
#                     COMMAND's own, or 124 on time-out).
#   --baseline FILE   known reports: FILE lists report fingerprints, one a line ('#' starts a comment).
#                     Reports whose fingerprint is in FILE are shown as known and do not fail the gate;
#                     only new ones do. Entries of FILE that this run did not raise are listed, so the
#                     file can be burnt down.
#   --write-baseline FILE  write the fingerprints of this run's reports to FILE (sorted, one a line,
#                     each with a comment giving its kind and summary); the reports then do not fail
#                     the gate. With --baseline too, FILE gets every fingerprint of this run.
#
# COMMAND runs with LOCKGRAPH_OPTIONS extended (after any value already set) by
#   report_dir='D':dump_signal=N:long_wait_ms=M   (D quoted, so it may hold ':', ',' or spaces)
# where M is half the time-out in ms, at most 10000. long_wait_ms is left out when LOCKGRAPH_OPTIONS
# already sets it (a key given twice takes its last value, so the caller's choice would be lost).
# Every lockgraph process COMMAND starts (a test runner's children too) inherits these options.
#
# Afterwards the gate prints one row per report (kind, locks, occurrences, JSON file; reports of one
# fingerprint from several processes are one row), renders every DOT file in D
# to SVG and PNG (scripts/render-dot.sh), prints the SVG paths, and exits with:
#   0    COMMAND exited 0 and no report was raised
#   N    COMMAND's own non-zero status (e.g. 134 when lockgraph aborted on a deadlock)
#   1    COMMAND exited 0 but reports were raised (with --baseline: reports not in the baseline; 0 with
#        --keep-going or --write-baseline)
#   124  COMMAND outlived the time-out
#   2    usage error
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { echo "deadlock-gate: $*" >&2; }
usage() {
  sed -n '6,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

timeout_s=600
dir=""
dump_signal=12
keep_going=0
baseline=""
write_baseline=""
while (($# > 0)); do
  case $1 in
    --timeout) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { say "--timeout needs a whole number of seconds >= 1"; exit 2; }
               timeout_s=$2; shift 2 ;;
    --timeout=*) timeout_s=${1#*=}; [[ $timeout_s =~ ^[1-9][0-9]*$ ]] || { say "--timeout needs a whole number of seconds >= 1"; exit 2; }
               shift ;;
    --dir) [[ $# -ge 2 && -n $2 ]] || { say "--dir needs a directory"; exit 2; }
           dir=$2; shift 2 ;;
    --dir=*) dir=${1#*=}; shift ;;
    --dump-signal) [[ $# -ge 2 && $2 =~ ^[0-9]+$ && $2 -le 64 && ! $2 =~ ^(4|5|6|7|8|9|11|19|31|32|33)$ ]] ||
                     { say "--dump-signal needs 0 or a catchable asynchronous signal number (1-3, 10, 12-18, 20-30, 34-64)"; exit 2; }
                   dump_signal=$2; shift 2 ;;
    --keep-going) keep_going=1; shift ;;
    --baseline) [[ $# -ge 2 && -n $2 ]] || { say "--baseline needs a file"; exit 2; }
                baseline=$2; shift 2 ;;
    --baseline=*) baseline=${1#*=}; [[ -n $baseline ]] || { say "--baseline needs a file"; exit 2; }; shift ;;
    --write-baseline) [[ $# -ge 2 && -n $2 ]] || { say "--write-baseline needs a file"; exit 2; }
                      write_baseline=$2; shift 2 ;;
    --write-baseline=*) write_baseline=${1#*=}; [[ -n $write_baseline ]] || { say "--write-baseline needs a file"; exit 2; }
                        shift ;;
    -h|--help) usage ;;
    --) shift; break ;;
    *) say "unknown argument '$1' (the command goes after --)"; usage ;;
  esac
done
(($# > 0)) || { say "no command given"; usage; }

# ---- the baseline: fingerprints known before this run --------------------------------------------------
declare -A known=()
if [[ -n $baseline ]]; then
  [[ -f $baseline && -r $baseline ]] || { say "--baseline '$baseline': cannot read the file"; exit 2; }
  line_no=0
  while IFS= read -r line || [[ -n $line ]]; do
    line_no=$((line_no + 1))
    entry=${line%%#*}
    entry=${entry//[[:space:]]/}
    [[ -z $entry ]] && continue
    if ! [[ $entry =~ ^[0-9a-f]{16}$ ]]; then
      say "$baseline:$line_no: bad baseline entry '$entry' (accepted: a 16-hex-digit report fingerprint, '#' comments)"
      exit 2
    fi
    known[$entry]=$line_no
  done <"$baseline"
fi
if [[ -n $write_baseline ]]; then
  : >>"$write_baseline" 2>/dev/null || { say "--write-baseline '$write_baseline': cannot write the file"; exit 2; }
  write_baseline=$(cd "$(dirname "$write_baseline")" && pwd)/$(basename "$write_baseline")
fi

# ---- the report directory ---------------------------------------------------------------------------
if [[ -z $dir ]]; then
  dir=$PWD/lockgraph-reports
  mkdir -p "$dir" || exit 2
  rm -f "$dir"/lockgraph-*.json "$dir"/lockgraph-*.dot "$dir"/lockgraph-*.svg "$dir"/lockgraph-*.png \
        "$dir"/lockgraph-*.tmp
else
  mkdir -p "$dir" || { say "cannot create report directory '$dir'"; exit 2; }
fi
dir=$(cd "$dir" && pwd)  # absolute: COMMAND may change directory
# The path goes into LOCKGRAPH_OPTIONS quoted (it may hold ':', ',' or spaces), with a quote it lacks.
if [[ $dir != *"'"* ]]; then
  quoted_dir="'$dir'"
elif [[ $dir != *'"'* ]]; then
  quoted_dir="\"$dir\""
else
  say "the report directory '$dir' contains both ' and \", which LOCKGRAPH_OPTIONS cannot carry; use --dir"
  exit 2
fi
probe="$dir/.deadlock-gate-probe.$$"
if ! : >"$probe" 2>/dev/null; then
  say "the report directory '$dir' is not writable"
  exit 2
fi
rm -f "$probe"
# Reports already in D are not this run's.
shopt -s nullglob
declare -A earlier=()
for f in "$dir"/*.json; do earlier[${f##*/}]=1; done
state=$(mktemp -d "${TMPDIR:-/tmp}/deadlock-gate.XXXXXX")
trap 'rm -rf "$state"' EXIT
: >"$state/start"  # files newer than this one are this run's

# ---- LOCKGRAPH_OPTIONS ------------------------------------------------------------------------------
long_wait_ms=$((timeout_s * 500))
((long_wait_ms > 10000)) && long_wait_ms=10000
extension="report_dir=$quoted_dir"
((dump_signal > 0)) && extension+=":dump_signal=$dump_signal"
existing=${LOCKGRAPH_OPTIONS:-}
if ! [[ $existing =~ (^|[:,[:space:]])long_wait_ms= ]]; then
  extension+=":long_wait_ms=$long_wait_ms"
fi
export LOCKGRAPH_OPTIONS="${existing:+$existing:}$extension"
say "running: $* (time-out ${timeout_s}s)"
say "LOCKGRAPH_OPTIONS=$LOCKGRAPH_OPTIONS"

# ---- run COMMAND with a time-out ---------------------------------------------------------------------
# COMMAND gets a process group of its own (setsid), so the dump signal and SIGKILL reach every process
# it started, and none of ours. A background job's stdin would be /dev/null: hand ours over explicitly.
start_group=()
command -v setsid >/dev/null 2>&1 && start_group=(setsid)
if { : <&0; } 2>/dev/null; then
  "${start_group[@]}" "$@" <&0 &
else
  "${start_group[@]}" "$@" </dev/null &
fi
pid=$!
target=$pid
((${#start_group[@]} > 0)) && target=-$pid  # the whole group

# Ctrl-C or a CI cancel of the gate reaches COMMAND too.
trap 'kill -TERM -- "$target" 2>/dev/null' INT TERM HUP

timed_out_flag=$state/timed-out
(
  sleeper=
  trap '[[ -n $sleeper ]] && kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep "$timeout_s" & sleeper=$!
  wait "$sleeper"
  sleeper=
  kill -0 -- "$target" 2>/dev/null || exit 0
  : >"$timed_out_flag"
  if ((dump_signal > 0)); then
    say "COMMAND still running after ${timeout_s}s: sending signal $dump_signal (dump_signal) so lockgraph writes the wait-for graph"
    kill -s "$dump_signal" -- "$target" 2>/dev/null
  else
    say "COMMAND still running after ${timeout_s}s: sending SIGTERM"
    kill -TERM -- "$target" 2>/dev/null
  fi
  for _ in $(seq 30); do
    kill -0 -- "$target" 2>/dev/null || exit 0
    sleep 0.1 & sleeper=$!
    wait "$sleeper"
    sleeper=
  done
  say "COMMAND still running 3s later: sending SIGKILL"
  kill -KILL -- "$target" 2>/dev/null
  exit 0
) &
timer=$!

status=0
wait "$pid" 2>/dev/null || status=$?
# A trapped signal interrupts `wait`; wait again until COMMAND is really gone.
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; status=$?; done
timed_out=0
if [[ -e $timed_out_flag ]]; then
  # The time-out fired: let the timer finish with the rest of COMMAND's process group (a wrapper
  # such as `bash -c` may die of the dump signal while its hung child lives on until SIGKILL).
  timed_out=1
  wait "$timer" 2>/dev/null
  rm -f "$timed_out_flag"
else
  kill -TERM "$timer" 2>/dev/null
  wait "$timer" 2>/dev/null
fi
trap - INT TERM HUP

# ---- summary ----------------------------------------------------------------------------------------
new_reports=()
for f in "$dir"/*.json; do
  [[ -n ${earlier[${f##*/}]:-} ]] || new_reports+=("${f##*/}")
done
# One JSON string field of one of lockgraph's own report files (one "key": value a line), as written.
json_field() { sed -n 's/^  "'"$2"'": "\(.*\)",\{0,1\}$/\1/p' "$1" | head -1; }
# Each report's fingerprint; with a baseline, whether it is known. A report without a fingerprint
# (an older lockgraph) is new.
declare -A seen_fp=()
declare -A status_of=()
unknown=0
for f in "${new_reports[@]}"; do
  fp=$(json_field "$dir/$f" fingerprint)
  if [[ -n $fp && -z ${seen_fp[$fp]:-} ]]; then
    seen_fp[$fp]=$f
  fi
  if [[ -n $baseline ]]; then
    if [[ -n $fp && -n ${known[$fp]:-} ]]; then
      status_of[$f]=known
    else
      status_of[$f]=new
      unknown=$((unknown + 1))
    fi
  fi
done
echo
echo "deadlock-gate: ---- summary -------------------------------------------------------------"
if ((timed_out)); then
  echo "deadlock-gate: COMMAND timed out after ${timeout_s}s (status $status after the signals)"
else
  echo "deadlock-gate: COMMAND exited with status $status"
fi
if ((${#new_reports[@]} == 0)); then
  echo "deadlock-gate: no lockgraph report in $dir"
else
  echo "deadlock-gate: ${#new_reports[@]} lockgraph report(s) in $dir:"
  files=()
  for f in "${new_reports[@]}"; do files+=("$dir/$f"); done
  statuses=()
  for f in "${new_reports[@]}"; do statuses+=("${status_of[$f]:-}"); done
  if command -v python3 >/dev/null 2>&1; then
    GATE_STATUSES="${statuses[*]}" python3 - "${files[@]}" <<'PY'
import json, os, sys

statuses = os.environ.get("GATE_STATUSES", "").split()
# One row per bug: files with the same fingerprint (several processes raised it) are one row, with
# their occurrences added up.
groups = {}
order = []
for i, path in enumerate(sys.argv[1:]):
    occurrences, fingerprint = 1, None
    try:
        with open(path, encoding="utf-8") as f:
            r = json.load(f)
        kind = str(r.get("kind", "?"))
        locks = [str(l) for l in r.get("locks", [])]
        sep = " => " if kind in ("lock_order_inversion", "deadlock") else ", "
        shown = sep.join(locks + locks[:1]) if sep == " => " and locks else sep.join(locks)
        occurrences = int(r.get("occurrences", 1))
        fingerprint = r.get("fingerprint") or None
    except (OSError, ValueError, TypeError) as e:
        kind, shown = "unreadable", str(e)
    key = fingerprint or path
    if key not in groups:
        order.append(key)
        groups[key] = {"kind": kind, "shown": shown, "times": 0, "paths": [],
                       "status": statuses[i] if i < len(statuses) else "new"}
    groups[key]["times"] += occurrences
    groups[key]["paths"].append(path)
rows = []
for key in order:
    g = groups[key]
    shown = g["shown"] if len(g["shown"]) <= 70 else g["shown"][:67] + "..."
    rel = os.path.relpath(g["paths"][0])
    where = g["paths"][0] if rel.startswith("..") else rel
    if len(g["paths"]) > 1:
        where += " (+%d more)" % (len(g["paths"]) - 1)
    row = (g["kind"], shown, str(g["times"]), where)
    if statuses:
        row = (g["status"],) + row
    rows.append(row)
header = ("kind", "locks", "times", "JSON file")
if statuses:
    header = ("status",) + header
widths = [max(len(x[i]) for x in rows + [header]) for i in range(len(header))]
for row in [header, tuple("-" * w for w in widths)] + rows:
    print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
PY
  elif command -v jq >/dev/null 2>&1; then
    printf '  %s\t%s\t%s\n' kind locks "JSON file"
    for f in "${files[@]}"; do
      jq -r --arg f "$f" '"  \(.kind)\t\(.locks | join(" => "))\t\($f)"' "$f" || echo "  unreadable	-	$f"
    done
  else
    for f in "${files[@]}"; do
      kind=$(grep -o '"kind": *"[a-z_]*"' "$f" | head -1 | sed 's/.*"\([a-z_]*\)"$/\1/')
      echo "  ${status_of[${f##*/}]:+${status_of[${f##*/}]}  }${kind:-?}  $f"
    done
  fi
fi
if [[ -n $baseline ]]; then
  echo "deadlock-gate: baseline $baseline: $((${#new_reports[@]} - unknown)) known report(s), $unknown new"
  gone=()
  for fp in "${!known[@]}"; do
    [[ -n ${seen_fp[$fp]:-} ]] || gone+=("$fp")
  done
  if ((${#gone[@]} > 0)); then
    echo "deadlock-gate: ${#gone[@]} baseline entr$( ((${#gone[@]} == 1)) && echo y || echo ies) no longer occur (remove them from $baseline):"
    while IFS= read -r fp; do
      echo "  $(sed -n "${known[$fp]}p" "$baseline")"
    done < <(printf '%s\n' "${gone[@]}" | sort)
  fi
fi
if [[ -n $write_baseline ]]; then
  {
    echo "# lockgraph baseline: report fingerprints known when it was written (scripts/deadlock-gate.sh"
    echo "# --write-baseline). The gate run with --baseline fails only on reports not listed here."
    while IFS= read -r fp; do
      [[ -n $fp ]] || continue
      f=$dir/${seen_fp[$fp]}
      echo "$fp  # $(json_field "$f" kind): $(json_field "$f" summary)"
    done < <(printf '%s\n' "${!seen_fp[@]}" | sort)
  } >"$write_baseline"
  echo "deadlock-gate: wrote ${#seen_fp[@]} fingerprint(s) to $write_baseline"
fi
# Diagrams: every DOT file in the directory (the reports' and any written by the dump).
mapfile -t new_dots < <(find "$dir" -maxdepth 1 -name '*.dot' -newer "$state/start" | sort)
if ((${#new_dots[@]} > 0)); then
  # In the source tree: scripts/render-dot.sh; installed: bin/lockgraph-render-dot beside bin/lockgraph-gate.
  render=$here/render-dot.sh
  [[ -x $render ]] || render=$here/lockgraph-render-dot
  "$render" "$dir" >/dev/null
  svgs=()
  for d in "${new_dots[@]}"; do
    [[ -f ${d%.dot}.svg ]] && svgs+=("${d%.dot}.svg")
  done
  if ((${#svgs[@]} > 0)); then
    echo "deadlock-gate: diagrams (SVG; a PNG beside each):"
    for s in "${svgs[@]}"; do
      rel=$(realpath -s --relative-to="$PWD" "$s" 2>/dev/null || echo "$s")
      [[ $rel == ../* ]] && rel=$s
      echo "  $rel"
    done
  fi
fi

if ((timed_out)); then
  exit 124
elif ((status != 0)); then
  exit "$status"
elif [[ -n $write_baseline || $keep_going -eq 1 ]]; then
  exit 0
elif [[ -n $baseline ]]; then
  ((unknown == 0)) || exit 1
elif ((${#new_reports[@]} > 0)); then
  exit 1
fi
exit 0
