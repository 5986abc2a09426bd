#!/bin/sh
# The kafka-init service of deploy/compose.yaml: the apache/kafka image, as root, once the credentials
# service has written the principals and their passwords, before the broker and Redis start.
#   1. a CA of its own and one certificate for the broker and Redis (openssl, EC P-256), as
#      deploy/local/secure.ts makes them; the CA's key is deleted once it has signed;
#   2. the broker's configuration: deploy/compose/kafka/server.properties plus its secrets (the keystore
#      password, the admin's JAAS lines), and a client configuration for the healthcheck, as admin;
#   3. the storage formatted with every principal's SCRAM-SHA-512 credential (kafka-storage format
#      --add-scram: KRaft reads SCRAM users from the metadata log, and kafkajs cannot create them).
# A step whose result exists is skipped, so a second `up` keeps the data and the credentials.
# The paths can be set from the environment (defaults: the containers' paths).
set -eu
SECRETS=${SECRETS:-/secrets}
DATA=${DATA:-/var/lib/kafka/data}
KAFKA_HOME=${KAFKA_HOME:-/opt/kafka}
TEMPLATE=${TEMPLATE:-/compose/kafka/server.properties}
# The user the broker, Redis and the hub's containers run as (compose.yaml, `user:`).
OWNER=${OWNER:-1000:1000}
umask 077

fail() {
  echo "kafka-init: $1" >&2
  exit 1
}
command -v openssl >/dev/null || fail 'this image has no openssl: the certificates cannot be made'
[ -s "$SECRETS/principals" ] || fail "no $SECRETS/principals (the credentials service writes it)"
[ -s "$SECRETS/admin.password" ] || fail "no $SECRETS/admin.password (the credentials service writes it)"

if [ ! -s "$SECRETS/broker.p12" ]; then
  # 365 days, not the local stack's 30: a compose volume outlives a test run.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$SECRETS/ca.key" -out "$SECRETS/ca.pem" -days 365 -subj '/CN=medfund-hub compose CA' \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$SECRETS/broker.key" -out "$SECRETS/broker.csr" -subj '/CN=kafka'
  # The names the clients use: the compose network's (kafka, redis) and the host's (127.0.0.1, localhost).
  printf 'subjectAltName=DNS:kafka,DNS:redis,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
    >"$SECRETS/broker.ext"
  openssl x509 -req -in "$SECRETS/broker.csr" -CA "$SECRETS/ca.pem" -CAkey "$SECRETS/ca.key" \
    -CAcreateserial -out "$SECRETS/broker.pem" -days 365 -extfile "$SECRETS/broker.ext"
  openssl rand -hex 24 >"$SECRETS/keystore.password"
  openssl pkcs12 -export -in "$SECRETS/broker.pem" -inkey "$SECRETS/broker.key" -certfile "$SECRETS/ca.pem" \
    -name broker -out "$SECRETS/broker.p12" -passout "file:$SECRETS/keystore.password"
  rm -f "$SECRETS/ca.key" "$SECRETS/ca.srl" "$SECRETS/broker.csr" "$SECRETS/broker.ext"
  echo 'kafka-init: CA and certificate made (kafka, redis, localhost, 127.0.0.1; 365 days)'
fi

admin_password=$(cat "$SECRETS/admin.password")
mkdir -p "$SECRETS/kafka"
{
  cat "$TEMPLATE"
  echo '# Appended by deploy/compose/kafka-init.sh: the secrets, in the secrets volume only.'
  echo "ssl.keystore.password=$(cat "$SECRETS/keystore.password")"
  echo 'listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;'
  echo "listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$admin_password\";"
  echo "listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"$admin_password\" user_admin=\"$admin_password\";"
} >"$SECRETS/kafka/server.properties"
{
  echo 'security.protocol=SASL_SSL'
  echo 'sasl.mechanism=SCRAM-SHA-512'
  echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$admin_password\";"
  echo 'ssl.truststore.type=PEM'
  echo "ssl.truststore.location=$SECRETS/ca.pem"
} >"$SECRETS/kafka/admin-client.properties"

if [ ! -f "$DATA/meta.properties" ]; then
  set --
  while IFS= read -r principal; do
    [ -n "$principal" ] || continue
    [ -s "$SECRETS/$principal.password" ] || fail "no password for $principal"
    set -- "$@" --add-scram "SCRAM-SHA-512=[name=$principal,password=$(cat "$SECRETS/$principal.password")]"
  done <"$SECRETS/principals"
  cluster_id=$("$KAFKA_HOME/bin/kafka-storage.sh" random-uuid)
  # Its output names the directory only; the arguments carry the passwords and are not echoed.
  "$KAFKA_HOME/bin/kafka-storage.sh" format --cluster-id "$cluster_id" --config "$SECRETS/kafka/server.properties" "$@" >/dev/null
  echo "kafka-init: storage formatted with the SCRAM users $(tr '\n' ' ' <"$SECRETS/principals")"
fi

chown -R "$OWNER" "$SECRETS" "$DATA"
