# Sourced by the TLS tests: a throwaway PKI made with the openssl command.
#   pki_init DIR                     where keys and certificates go ($pki)
#   pki_ca NAME [SUBJECT-CN]         a self-signed CA (a look-alike when CN is another's)
#   pki_signed NAME CA DAYS [SAN]    a certificate signed by CA, valid DAYS (-1: expired)
pki_init() { pki=$1; mkdir -p "$pki"; }
pki_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$1.key" 2>/dev/null; }
pki_ca() {
  pki_key "$1"
  openssl req -x509 -key "$pki/$1.key" -subj "/CN=${2:-$1}" -days 2 -out "$pki/$1.pem" 2>/dev/null
}
pki_signed() {
  pki_key "$1"
  openssl req -new -key "$pki/$1.key" -subj "/CN=$1" -out "$pki/$1.csr" 2>/dev/null
  local ext=()
  [ -n "${4:-}" ] && { printf 'subjectAltName=%s\n' "$4" >"$pki/$1.ext"; ext=(-extfile "$pki/$1.ext"); }
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$2.pem" -CAkey "$pki/$2.key" -CAcreateserial -days "$3" \
    "${ext[@]}" -out "$pki/$1.pem" 2>/dev/null
}
