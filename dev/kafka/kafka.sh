#!/usr/bin/env bash
# Runs a real single-node Apache Kafka (KRaft) from Maven Central jars: up | down | status | jars.
# With KAFKA_BOOTSTRAP_SERVERS set, an external broker is used and nothing is started.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# 4.4.0 is the default; 3.9.1 (KAFKA_VERSION=3.9.1) is the tested alternative. Both run on Java 17.
version=${KAFKA_VERSION:-4.4.0}
port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-9093}
cache=${KAFKA_CACHE_DIR:-$here/.cache}/$version
jars=$cache/jars
# KAFKA_RUN_DIR gives a second broker (other ports) its own data, pid and log, sharing the jars.
run=${KAFKA_RUN_DIR:-$cache}
data=$run/data
pidfile=$run/kafka.pid
logfile=$run/kafka.log
python=${PYTHON:-python3}

say() { printf 'kafka: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

probe() { "$python" "$here/probe.py" "$1" 2>/dev/null; }

require() {
  command -v java >/dev/null || die "Java 17 or newer is required and was not found (Debian: apt-get install openjdk-17-jre-headless)."
  command -v mvn >/dev/null || die "Maven is required to fetch the Kafka jars and was not found (Debian: apt-get install maven)."
  command -v "$python" >/dev/null || die "python3 is required for the readiness probe and was not found."
}

fetch_jars() {
  [ -f "$jars/.complete" ] && return 0
  local profile=kafka3
  [ "${version%%.*}" -ge 4 ] && profile=kafka4
  say "resolving org.apache.kafka:kafka_2.13:$version from Maven Central into $jars"
  rm -rf "$jars" && mkdir -p "$jars"
  mvn -q -B -f "$here/pom.xml" -P"$profile" -Dkafka.version="$version" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$jars" \
    || die "Maven could not resolve Kafka $version (see the output above)."
  touch "$jars/.complete"
}

java_cmd() {
  local logging="-Dlog4j.configuration=file:$here/log4j.properties"
  [ "${version%%.*}" -ge 4 ] && logging="-Dlog4j2.configurationFile=$here/log4j2.properties"
  java_args=(java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true "$logging" -cp "$jars/*")
}

format_once() {
  sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$controller_port|g" -e "s|@DATA_DIR@|$data|g" \
    "$here/server.properties.in" > "$run/server.properties"
  [ -f "$data/meta.properties" ] && return 0
  local cluster_id
  cluster_id=$("$python" -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode())')
  mkdir -p "$data"
  java_cmd
  "${java_args[@]}" kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$run/server.properties" >>"$logfile" 2>&1 \
    || { tail -n 30 "$logfile" >&2; die "formatting the KRaft data directory failed"; }
}

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid; pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && is_this_broker "$pid" && echo "$pid"
}

# After a crash or reboot the pid in the file may belong to another process: only this JVM counts.
is_this_broker() {
  local args
  if [ -r "/proc/$1/cmdline" ]; then args=$(tr '\0' ' ' < "/proc/$1/cmdline")
  elif command -v ps >/dev/null; then args=$(ps -ww -p "$1" -o args= 2>/dev/null || true)
  else return 0; fi
  [[ $args == *"kafka.Kafka $run/server.properties"* ]]
}

# Returns 1 if the process exits before the broker answers; dies after KAFKA_START_TIMEOUT.
wait_ready() {
  local pid=$1 deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-60}))
  until probe "127.0.0.1:$port"; do
    kill -0 "$pid" 2>/dev/null || return 1
    [ $SECONDS -lt $deadline ] || { tail -n 40 "$logfile" >&2; die "no answer on 127.0.0.1:$port within ${KAFKA_START_TIMEOUT:-60}s (log: $logfile)"; }
    sleep 0.5
  done
}

up() {
  if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    say "KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS is set: using that broker, starting nothing"; return 0
  fi
  require
  if pid=$(running_pid); then
    if wait_ready "$pid"; then say "Kafka $version already running (pid $pid) on 127.0.0.1:$port"; return 0; fi
    # e.g. a broker killed a moment ago whose JVM had not finished exiting
    say "the broker with pid $pid exited before answering: starting a new one"; rm -f "$pidfile"
  fi
  if probe "127.0.0.1:$port"; then say "a broker not started by this script for Kafka $version already answers on 127.0.0.1:$port (an external one or another KAFKA_VERSION): using it"; return 0; fi
  mkdir -p "$cache" "$run"
  fetch_jars
  format_once
  say "starting Kafka $version on 127.0.0.1:$port (log: $logfile)"
  # setsid detaches the broker from the caller's process group, so it outlives the shell that started it.
  java_cmd
  setsid "${java_args[@]}" kafka.Kafka "$run/server.properties" >>"$logfile" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  wait_ready "$!" || { tail -n 40 "$logfile" >&2; die "the broker exited during start-up (log: $logfile)"; }
  say "ready on 127.0.0.1:$port (pid $(cat "$pidfile"))"
}

down() {
  [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && { say "external broker in use: nothing to stop"; return 0; }
  local pid
  pid=$(running_pid) || { rm -f "$pidfile"; say "not running"; return 0; }
  say "stopping Kafka (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && { say "controlled shutdown took over 30s: killing"; kill -KILL "$pid"; }
  rm -f "$pidfile"
}

status() {
  local target=${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$port}
  target=${target%%,*}
  local pid
  if probe "$target"; then
    if pid=$(running_pid); then say "up: $target answers (Kafka $version, pid $pid)"
    else say "up: $target answers (not started by this script for Kafka $version)"; fi
    return 0
  fi
  say "down: nothing answers on $target"; return 1
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  jars) require; mkdir -p "$cache"; fetch_jars ;;
  *) echo "usage: $0 up|down|status|jars" >&2; exit 2 ;;
esac
