#!/bin/sh
# Writes a throwaway PKI for the TLS tests into DIR (never committed):
#   ca, other-ca          two CAs with the same name, different keys
#   server                localhost / 127.0.0.1, signed by ca
#   server-other          the same request (name, key) signed by other-ca:
#                         it differs from server only in its signer
#   wrong-name            elsewhere.test / 127.0.0.2, signed by ca
#   client, other-client  client certificates signed by ca and other-ca
#   garbage.pem           a file that is not PEM
# Usage: make_test_certs.sh DIR
set -e
cd "$1"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca() { key "$1"; openssl req -x509 -new -key "$1.key" -subj "/CN=cfgactors test CA" -days 1 -out "$1.crt"; }
sign() { # name request ca extensions
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$2.csr" -CA "$3.crt" -CAkey "$3.key" -set_serial 7 \
    -days 1 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
request() { key "$1"; openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"; }
ca ca
ca other-ca
request server localhost
sign server server ca "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
cp server.key server-other.key
sign server-other server other-ca "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
request wrong-name elsewhere.test
sign wrong-name wrong-name ca "subjectAltName=DNS:elsewhere.test,IP:127.0.0.2
extendedKeyUsage=serverAuth"
request client cfgd
sign client client ca "extendedKeyUsage=clientAuth"
cp client.key other-client.key
sign other-client client other-ca "extendedKeyUsage=clientAuth"
printf 'this is not a PEM file\n' > garbage.pem
