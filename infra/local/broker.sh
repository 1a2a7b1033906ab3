#!/usr/bin/env bash
# Apache Kafka (KRaft) for development, CI and the fault suite, from Maven Central, on this machine's Java.
#
# usage: infra/local/broker.sh start|stop|status|classpath [PORT]
#   start      resolve Kafka with Maven (once, into $JEDEL_MAVEN_REPO), format the storage (once), start,
#              wait until it answers an authenticated client, create Jedel's topics, principals and ACLs
#   stop       stop the broker (SIGTERM, then SIGKILL after 30 s)
#   status     say whether it runs
#   classpath  print the broker's Java classpath (resolving it if needed)
#
# Settings (environment):
#   JEDEL_BROKER_PORT        client port (default 19092); the controller listens on PORT+1
#   JEDEL_BROKER_HEAP        JVM heap (default 512m)
#   JEDEL_BROKER_DIR         data and logs (default .run/kafka/PORT)
#   JEDEL_BROKER_NODE_ID     node id (default 1); JEDEL_BROKER_VOTERS the controller quorum
#                            (default NODE_ID@127.0.0.1:PORT+1) for a multi-node cluster on loopback
#   JEDEL_BROKER_EXTRA       extra server.properties lines (newline-separated)
#   JEDEL_BROKER_CREDENTIALS the SCRAM credentials file (default .run/kafka/credentials.json; made if absent)
#   JEDEL_BROKER_PROVISION   0 to skip creating topics/principals/ACLs (the fault suite does it once)
#   JEDEL_BROKER_PARTITIONS  partitions per topic when provisioning (default 3)
#   JEDEL_MAVEN_REPO         Maven's local repository (default ~/.cache/jedel/maven)
# Every listener needs SASL: SCRAM-SHA-256 for clients and between brokers, PLAIN on the controller
# listener (KRaft cannot use SCRAM there). Only `admin` is a super user; every other principal gets
# exactly the ACLs in shared/broker_access.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
port="${2:-${JEDEL_BROKER_PORT:-19092}}"
controller_port=$((port + 1))
node_id="${JEDEL_BROKER_NODE_ID:-1}"
voters="${JEDEL_BROKER_VOTERS:-$node_id@127.0.0.1:$controller_port}"
dir="${JEDEL_BROKER_DIR:-$root/.run/kafka/$port}"
heap="${JEDEL_BROKER_HEAP:-512m}"
# This broker serves development, tests and benches on small machines, where it starts fresh and
# shares a few cores with everything it serves. There, the JVM's optimising compiler (C2) was half
# the broker's CPU for its first minute (bench.intake at 1,000 alerts/s on 2 cores: 0.41–0.72 ms of
# broker CPU an alert, 0.16–0.29 ms with C1 alone). C1's code is good enough for this traffic;
# a production broker (docker-compose.yml) keeps the JVM's defaults. Empty keeps them here too.
jit="${JEDEL_BROKER_JVM_FLAGS--XX:TieredStopAtLevel=1}"
credentials="${JEDEL_BROKER_CREDENTIALS:-$root/.run/kafka/credentials.json}"
maven_repo="${JEDEL_MAVEN_REPO:-$HOME/.cache/jedel/maven}"
pidfile="$dir/broker.pid"
py="$root/.venv/bin/python"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
is_running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

classpath() {
  local pom="$root/infra/kafka/pom.xml" cache="$maven_repo/jedel-kafka.classpath"
  if [ ! -s "$cache" ] || [ "$pom" -nt "$cache" ] || ! tr ':' '\n' <"$cache" | head -1 | xargs test -f; then
    say "resolving Apache Kafka with Maven into $maven_repo (once)" >&2
    mkdir -p "$maven_repo"
    mvn -q -B -f "$pom" -Dmaven.repo.local="$maven_repo" dependency:build-classpath \
      -Dmdep.outputFile="$cache.tmp" >&2
    mv "$cache.tmp" "$cache"
  fi
  cat "$cache"
}

kafka_java() {  # kafka_java MAIN_CLASS ARGS...
  # shellcheck disable=SC2086
  java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true $jit \
    -Dlog4j2.configurationFile="$root/infra/kafka/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
    -cp "$(classpath)" "$@"
}

write_config() {
  local admin_password
  admin_password=$("$py" -m shared.broker_credentials password admin --file "$credentials")
  mkdir -p "$dir/data" "$dir/logs"
  umask 077
  cat >"$dir/server.properties" <<PROPS
# Written by infra/local/broker.sh; holds the admin password: never commit, never share.
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
listeners=CLIENT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=CLIENT://127.0.0.1:$port
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=CLIENT
controller.listener.names=CONTROLLER
sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
sasl.mechanism.controller.protocol=PLAIN
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.client.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin_password" user_admin="$admin_password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
log.dirs=$dir/data
auto.create.topics.enable=false
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Tests and the fault suite use short sessions to see a dead consumer quickly.
group.min.session.timeout.ms=1000
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
log.retention.hours=168
PROPS
  if [ -n "${JEDEL_BROKER_EXTRA:-}" ]; then printf '%s\n' "$JEDEL_BROKER_EXTRA" >>"$dir/server.properties"; fi
}

format_once() {
  [ -f "$dir/data/meta.properties" ] && return 0
  local cluster_id admin_password
  cluster_id=$("$py" -m shared.broker_credentials cluster-id --file "$credentials")
  admin_password=$("$py" -m shared.broker_credentials password admin --file "$credentials")
  say "formatting Kafka storage in $dir/data (cluster $cluster_id)"
  kafka_java kafka.tools.StorageTool format --ignore-formatted --cluster-id="$cluster_id" -c "$dir/server.properties" \
    --add-scram "SCRAM-SHA-256=[name=admin,password=$admin_password]" >"$dir/logs/format.log" 2>&1 \
    || { cat "$dir/logs/format.log" >&2; exit 1; }
}

case "${1:-}" in
  start)
    if is_running; then echo "Apache Kafka already running on 127.0.0.1:$port"; exit 0; fi
    if port_open "$port"; then
      echo "port $port is taken by another program; set JEDEL_BROKER_PORT" >&2; exit 1
    fi
    command -v java >/dev/null || { echo "Java 17 is needed to run Apache Kafka" >&2; exit 1; }
    command -v mvn >/dev/null || { echo "Maven is needed to resolve Apache Kafka" >&2; exit 1; }
    classpath >/dev/null
    started=$(date +%s.%N)
    write_config
    format_once
    # shellcheck disable=SC2086
    nohup java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true $jit \
      -Dlog4j2.configurationFile="$root/infra/kafka/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
      -cp "$(classpath)" kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1 &
    echo $! >"$pidfile"
    if [ "${JEDEL_BROKER_PROVISION:-1}" = 1 ]; then
      "$py" -m shared.broker_credentials provision --bootstrap "127.0.0.1:$port" --file "$credentials" \
        --partitions "${JEDEL_BROKER_PARTITIONS:-3}" --timeout 90 || { echo "Apache Kafka did not become ready; see $dir/logs/server.log" >&2; exit 1; }
    else
      for _ in $(seq 1 900); do port_open "$port" && break; sleep 0.1; done
    fi
    printf 'Apache Kafka listening on 127.0.0.1:%s (SASL/SCRAM; credentials in %s), ready in %.1f s\n' \
      "$port" "${credentials#"$root"/}" "$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')"
    ;;
  stop)
    if is_running; then
      pid=$(cat "$pidfile")
      kill "$pid"
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      echo "Apache Kafka on $port stopped"
    fi
    rm -f "$pidfile"
    ;;
  status)
    if is_running; then echo "running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi
    ;;
  classpath) classpath ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
