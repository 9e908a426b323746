# shellcheck shell=bash
# Process supervision for the lab, in the manner of systemd's Restart=on-failure (sourced).
# Every service runs under its own small supervisor (a background subshell) that restarts it when
# it exits, after a backoff of 1 s, 2 s, 4 s ... up to 10 s (back to 1 s once it ran 30 s), and
# stops it with SIGTERM (SIGKILL after 10 s) when told to. Services run in their own session
# (setsid), so a Ctrl-C in the terminal reaches only the script, which then stops them in order.
#
# State in $LAB_DIR: pids/NAME.pid (the running process), pids/NAME.sup (its supervisor),
# hold/NAME (present: keep NAME down: a drill holding a far end or a gateway down), logs/NAME.log.
#   svc_start NAME CMD...    supervise CMD as NAME (CMD may start with `ip netns exec NS`)
#   svc_stop NAME            stop NAME and its supervisor
#   svc_stop_all             stop every supervised service, in reverse start order
#   lab_pid NAME             pid of NAME now (empty when down)
#   lab_hold NAME / lab_release NAME   keep NAME down (killed now) / let it come back
#   supervisor_alive         the lab's main script (pids/supervisor.pid) runs

[ -n "${CMS_LIB_SUPERVISE:-}" ] && return 0
CMS_LIB_SUPERVISE=1
svc_names=()

svc_note() { printf '%s lab: %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$LAB_DIR/logs/supervisor.log"; }

svc_loop() { # svc_loop NAME CMD...: the supervisor itself (runs in a background subshell)
  local name=$1 backoff=1 child="" nap="" started rc stopping=""
  shift
  set +e # a service's exit status is what we handle here, not a reason for the supervisor to end
  # The naps are background sleeps so that TERM interrupts them; the trap ends them too, so that
  # nothing outlives the lab.
  trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null
        [ -n "$nap" ] && kill "$nap" 2>/dev/null' TERM
  while [ -z "$stopping" ]; do
    if [ -e "$LAB_DIR/hold/$name" ]; then
      sleep 0.5 & nap=$!
      wait "$nap"; nap=""
      continue
    fi
    started=$SECONDS
    setsid "$@" >> "$LAB_DIR/logs/$name.log" 2>&1 < /dev/null &
    child=$!
    echo "$child" > "$LAB_DIR/pids/$name.pid"
    wait "$child" 2> /dev/null; rc=$? # no "Killed" line from bash: svc_note says it
    if [ -n "$stopping" ]; then
      local t
      for t in $(seq 1 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$child" 2>/dev/null
      wait "$child" 2>/dev/null
      break
    fi
    rm -f "$LAB_DIR/pids/$name.pid"
    [ -e "$LAB_DIR/hold/$name" ] && { svc_note "$name held down (exit status $rc)"; continue; }
    [ $((SECONDS - started)) -ge 30 ] && backoff=1
    svc_note "$name exited (status $rc), restarting in ${backoff}s"
    sleep "$backoff" & nap=$!
    wait "$nap"; nap=""
    backoff=$(( backoff * 2 > 10 ? 10 : backoff * 2 ))
  done
  rm -f "$LAB_DIR/pids/$name.pid" "$LAB_DIR/pids/$name.sup"
}

svc_start() {
  local name=$1
  shift
  mkdir -p "$LAB_DIR/pids" "$LAB_DIR/hold" "$LAB_DIR/logs"
  rm -f "$LAB_DIR/hold/$name"
  svc_loop "$name" "$@" &
  echo $! > "$LAB_DIR/pids/$name.sup"
  svc_names+=("$name")
  local _
  for _ in $(seq 1 50); do [ -s "$LAB_DIR/pids/$name.pid" ] && return 0; sleep 0.05; done
}

svc_stop() {
  local sup
  sup=$(cat "$LAB_DIR/pids/$1.sup" 2>/dev/null) || return 0
  kill -TERM "$sup" 2>/dev/null
  local _
  for _ in $(seq 1 120); do kill -0 "$sup" 2>/dev/null || break; sleep 0.1; done
  # A supervisor that did not finish in 12 s: stop its service ourselves, by its recorded pid.
  if kill -0 "$sup" 2>/dev/null; then
    kill -KILL "$sup" 2>/dev/null
    kill -KILL "$(lab_pid "$1")" 2>/dev/null
  fi
  rm -f "$LAB_DIR/pids/$1.pid" "$LAB_DIR/pids/$1.sup"
}

svc_stop_all() {
  local i
  # Reverse order: the simulators go before the nodes (no gateway alarms at shutdown), the nodes
  # before the witnesses and the RKS they report to.
  for ((i = ${#svc_names[@]} - 1; i >= 0; i--)); do svc_stop "${svc_names[$i]}"; done
  svc_names=()
}

lab_pid() { cat "$LAB_DIR/pids/$1.pid" 2>/dev/null; }
lab_hold() {
  touch "$LAB_DIR/hold/$1"
  local p
  p=$(lab_pid "$1")
  [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
  true
}
lab_release() { rm -f "$LAB_DIR/hold/$1"; }
supervisor_alive() {
  local p
  p=$(cat "$LAB_DIR/pids/supervisor.pid" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null
}
