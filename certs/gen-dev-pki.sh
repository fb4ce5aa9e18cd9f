#!/usr/bin/env bash
# Generate Lienthong's DEVELOPMENT PKI into OUTDIR.
#
#   bash certs/gen-dev-pki.sh OUTDIR        (e.g. certs/dev, or a temp dir)
#
# Needs only openssl (3.x) and coreutils. File names, subjects, serial numbers
# and validity dates are fixed; keys are fresh on every run. Re-running
# regenerates everything the script owns inside OUTDIR (see OWNED below).
#
# NOTHING produced by this script is trusted in production. See certs/README.md.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

command -v openssl >/dev/null || { echo "openssl not found" >&2; exit 1; }
case "$(openssl version)" in
    OpenSSL\ 3.*) ;;
    *) echo "need OpenSSL 3.x, found: $(openssl version)" >&2; exit 1 ;;
esac

mkdir -p "$1"
OUT="$(cd "$1" && pwd)"

# Everything below OUTDIR that this script owns; removed before regenerating.
OWNED=(ca roots intermediates crl members gateway tls negative index.json)
for entry in "${OWNED[@]}"; do
    rm -rf "${OUT:?}/$entry"
done
mkdir -p "$OUT"/{ca,roots,intermediates,crl,members,gateway,tls,negative}
umask 077                       # keys (and everything else) start private
export OPENSSL_CONF=/dev/null   # ignore the host's openssl.cnf

CRL_DAYS=3650

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

# genkey TYPE FILE  -- TYPE is rsa-NNNN or ecdsa-p256 / ecdsa-p384
genkey() {
    local type=$1 file=$2
    case "$type" in
        rsa-*)      openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${type#rsa-}" -out "$file" 2>/dev/null ;;
        ecdsa-p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$file" ;;
        ecdsa-p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$file" ;;
        *) echo "unknown key type $type" >&2; exit 1 ;;
    esac
    chmod 0600 "$file"
}

# cdp NAME -- the CRL distribution point of certificates issued by CA NAME.
# A relative file: URI; the gateway never fetches CRLs, it loads them from
# files, and matches them by the last path segment.
cdp() { echo "URI:file:crl/$1.crl.pem"; }

# write_ca_config NAME DIGEST [ISSUED_CDP]
# An `openssl ca` directory for CA NAME under $OUT/ca/NAME. ISSUED_CDP is the
# CRL distribution point written into intermediates signed by this CA.
write_ca_config() {
    local name=$1 md=$2 dir="$OUT/ca/$1"
    mkdir -p "$dir/newcerts"
    : >"$dir/index.txt"
    echo "unique_subject = no" >"$dir/index.txt.attr"
    echo 1000 >"$dir/serial"
    echo 01 >"$dir/crlnumber"
    cat >"$dir/openssl.cnf" <<EOF
[ ca ]
default_ca = CA_default

[ CA_default ]
dir              = $dir
database         = \$dir/index.txt
new_certs_dir    = \$dir/newcerts
serial           = \$dir/serial
crlnumber        = \$dir/crlnumber
certificate      = \$dir/cert.pem
private_key      = \$dir/key.pem
default_md       = $md
default_crl_days = $CRL_DAYS
policy           = policy_any
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
name_opt         = RFC2253,-esc_msb
cert_opt         = ca_default
crl_extensions   = crl_ext

[ policy_any ]
countryName            = optional
stateOrProvinceName    = optional
localityName           = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied
emailAddress           = optional

[ req ]
distinguished_name = req_dn
string_mask        = utf8only
utf8               = yes
[ req_dn ]

[ crl_ext ]
authorityKeyIdentifier = keyid:always

[ v3_root ]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ v3_intermediate ]
basicConstraints       = critical,CA:TRUE,pathlen:0
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints  = $(cdp "$name")

# Document / message signing (XML-DSig, CMS): members and the gateway.
[ leaf_signing ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,nonRepudiation
extendedKeyUsage       = emailProtection
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
crlDistributionPoints  = $(cdp "$name")

# Same, but also usable as a TLS client (mTLS) certificate.
[ leaf_signing_client ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,nonRepudiation
extendedKeyUsage       = emailProtection,clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
crlDistributionPoints  = $(cdp "$name")

[ leaf_tls_client ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
crlDistributionPoints  = $(cdp "$name")

[ leaf_tls_server ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
crlDistributionPoints  = $(cdp "$name")

# Negative: an encryption-only certificate (no digitalSignature).
[ leaf_no_digital_signature ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,keyEncipherment,dataEncipherment
extendedKeyUsage       = emailProtection
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
crlDistributionPoints  = $(cdp "$name")
EOF
}

# sign CA_NAME EXT CSR OUTCERT START END [extra openssl-ca args...]
sign() {
    local ca=$1 ext=$2 csr=$3 out=$4 start=$5 end=$6
    shift 6
    openssl ca -batch -notext -utf8 -preserveDN \
        -config "$OUT/ca/$ca/openssl.cnf" -extensions "$ext" \
        -startdate "$start" -enddate "$end" \
        -in "$csr" -out "$out" "$@" 2>"$OUT/ca/$ca/last.log" \
        || { cat "$OUT/ca/$ca/last.log" >&2; exit 1; }
}

# csr KEY SUBJECT OUTCSR
csr() {
    openssl req -new -utf8 -config "$OUT/ca/req.cnf" -key "$1" -subj "$2" -out "$3"
}

cat >"$OUT/ca/req.cnf" <<'EOF'
[ req ]
distinguished_name = req_dn
string_mask        = utf8only
utf8               = yes
[ req_dn ]
EOF

# --------------------------------------------------------------------------
# index.json (one certificate object per line, fixed key order, so that
# line-oriented tools like certs/check-dev-pki.sh can read it too)
# --------------------------------------------------------------------------

INDEX_ENTRIES=()

json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}
json_opt() { if [[ -n "$1" ]]; then json_str "$1"; else printf 'null'; fi; }

iso_date() {   # "notBefore=2025-12-01 00:00:00Z" -> 2025-12-01T00:00:00Z
    local v=${1#*=}
    echo "${v/ /T}"
}

# index_add NAME ROLE KEY_TYPE EXPECTED PURPOSE CERT KEY CHAIN ISSUER_CERT TRUST_ANCHOR CRL
# Paths are relative to OUTDIR; empty means "none".
index_add() {
    local name=$1 role=$2 key_type=$3 expected=$4 purpose=$5
    local cert=$6 key=$7 chain=$8 issuer_cert=$9 anchor=${10} crl=${11}
    local f="$OUT/$cert"
    local subject issuer nb na sigalg spki certfp serial
    subject=$(openssl x509 -in "$f" -noout -subject -nameopt RFC2253,-esc_msb); subject=${subject#subject=}
    issuer=$(openssl x509 -in "$f" -noout -issuer -nameopt RFC2253,-esc_msb);   issuer=${issuer#issuer=}
    nb=$(iso_date "$(openssl x509 -in "$f" -noout -startdate -dateopt iso_8601)")
    na=$(iso_date "$(openssl x509 -in "$f" -noout -enddate -dateopt iso_8601)")
    serial=$(openssl x509 -in "$f" -noout -serial); serial=${serial#serial=}
    sigalg=$(openssl x509 -in "$f" -noout -text | sed -n 's/^ *Signature Algorithm: *//p' | head -n1)
    spki=$(openssl x509 -in "$f" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
    certfp=$(openssl x509 -in "$f" -outform DER | sha256sum | cut -d' ' -f1)
    INDEX_ENTRIES+=("$(printf '{"name":%s,"role":%s,"expected":%s,"purpose":%s,"file":%s,"key":%s,"chain":%s,"issuer_file":%s,"trust_anchor":%s,"crl":%s,"subject":%s,"issuer":%s,"serial":%s,"key_type":%s,"signature_algorithm":%s,"spki_sha256":%s,"cert_sha256":%s,"not_before":%s,"not_after":%s}' \
        "$(json_str "$name")" "$(json_str "$role")" "$(json_str "$expected")" "$(json_opt "$purpose")" \
        "$(json_str "$cert")" "$(json_opt "$key")" "$(json_opt "$chain")" "$(json_opt "$issuer_cert")" \
        "$(json_opt "$anchor")" "$(json_opt "$crl")" \
        "$(json_str "$subject")" "$(json_str "$issuer")" "$(json_str "$serial")" \
        "$(json_str "$key_type")" "$(json_str "$sigalg")" "$(json_str "$spki")" "$(json_str "$certfp")" \
        "$(json_str "$nb")" "$(json_str "$na")")")
}

# --------------------------------------------------------------------------
# CAs
# --------------------------------------------------------------------------

# root NAME KEY_TYPE DIGEST SUBJECT START END
root() {
    local name=$1 kt=$2 md=$3 subj=$4 start=$5 end=$6 dir="$OUT/ca/$1"
    write_ca_config "$name" "$md"
    genkey "$kt" "$dir/key.pem"
    csr "$dir/key.pem" "$subj" "$dir/req.csr"
    sign "$name" v3_root "$dir/req.csr" "$dir/cert.pem" "$start" "$end" -selfsign -keyfile "$dir/key.pem"
    cp "$dir/cert.pem" "$OUT/roots/$name.pem"
    chmod 0644 "$OUT/roots/$name.pem"
    index_add "$name" root "$kt" valid any "roots/$name.pem" "ca/$name/key.pem" "" "" "roots/$name.pem" "crl/$name.crl.pem"
}

# intermediate NAME PARENT KEY_TYPE DIGEST SUBJECT START END
intermediate() {
    local name=$1 parent=$2 kt=$3 md=$4 subj=$5 start=$6 end=$7 dir="$OUT/ca/$1"
    write_ca_config "$name" "$md"
    genkey "$kt" "$dir/key.pem"
    csr "$dir/key.pem" "$subj" "$dir/req.csr"
    sign "$parent" v3_intermediate "$dir/req.csr" "$dir/cert.pem" "$start" "$end"
    cp "$dir/cert.pem" "$OUT/intermediates/$name.pem"
    chmod 0644 "$OUT/intermediates/$name.pem"
    index_add "$name" intermediate "$kt" valid any "intermediates/$name.pem" "ca/$name/key.pem" "" \
        "roots/$parent.pem" "roots/$parent.pem" "crl/$parent.crl.pem"
}

# Which root each intermediate hangs under (for index entries of leaves).
declare -A ROOT_OF

# Roots. The "old" national root mirrors the pre-2025 NEAC root, the "2025"
# one the root re-issued on 25/11/2025; the Government CA (Ban Co yeu Chinh
# phu) is a separate root.
root national-root-old  rsa-4096   sha256 \
    "/C=VN/O=Lienthong DEV PKI - NOT TRUSTED/OU=Development only/CN=DEV National Root CA (old)" \
    20150101000000Z 20301231235959Z
root national-root-2025 ecdsa-p384 sha384 \
    "/C=VN/O=Lienthong DEV PKI - NOT TRUSTED/OU=Development only/CN=DEV National Root CA (2025-11-25)" \
    20251125000000Z 20501124235959Z
root government-ca      rsa-3072   sha256 \
    "/C=VN/O=Lienthong DEV PKI - NOT TRUSTED/OU=Development only/CN=DEV Government CA Root" \
    20200101000000Z 20451231235959Z

intermediate national-old-signing  national-root-old  rsa-3072   sha256 \
    "/C=VN/O=Lienthong DEV PKI - NOT TRUSTED/OU=Development only/CN=DEV National Signing CA (old)" \
    20150601000000Z 20300630235959Z
intermediate national-2025-signing national-root-2025 ecdsa-p384 sha384 \
    "/C=VN/O=Lienthong DEV PKI - NOT TRUSTED/OU=Development only/CN=DEV National Signing CA (2025)" \
    20251125000000Z 20451124235959Z
intermediate government-signing    government-ca      rsa-3072   sha256 \
    "/C=VN/O=Lienthong DEV PKI - NOT TRUSTED/OU=Development only/CN=DEV Government Signing CA" \
    20200601000000Z 20401231235959Z
ROOT_OF[national-old-signing]=national-root-old
ROOT_OF[national-2025-signing]=national-root-2025
ROOT_OF[government-signing]=government-ca

# --------------------------------------------------------------------------
# end entities
# --------------------------------------------------------------------------

# leaf DIR NAME CA KEY_TYPE EXT SUBJECT START END EXPECTED ROLE PURPOSE [extra openssl-ca args]
# Writes DIR/NAME.key.pem, DIR/NAME.cert.pem, DIR/NAME.chain.pem (leaf + intermediate).
leaf() {
    local sub=$1 name=$2 ca=$3 kt=$4 ext=$5 subj=$6 start=$7 end=$8 expected=$9 role=${10} purpose=${11}
    shift 11
    local base="$OUT/$sub/$name"
    genkey "$kt" "$base.key.pem"
    csr "$base.key.pem" "$subj" "$base.csr"
    sign "$ca" "$ext" "$base.csr" "$base.cert.pem" "$start" "$end" "$@"
    rm -f "$base.csr"
    cat "$base.cert.pem" "$OUT/intermediates/$ca.pem" >"$base.chain.pem"
    chmod 0644 "$base.cert.pem" "$base.chain.pem"
    index_add "$name" "$role" "$kt" "$expected" "$purpose" "$sub/$name.cert.pem" "$sub/$name.key.pem" \
        "$sub/$name.chain.pem" "intermediates/$ca.pem" "roots/${ROOT_OF[$ca]}.pem" "crl/$ca.crl.pem"
}

VN="/C=VN"
OLD_S=20251201000000Z OLD_E=20300601000000Z   # within national-old-signing
NEW_S=20251201000000Z NEW_E=20351130235959Z   # within national-2025-signing
GOV_S=20251201000000Z GOV_E=20351130235959Z   # within government-signing

# Portals (provincial public-service portals).
leaf members portal-hanoi national-old-signing  rsa-2048   leaf_signing \
    "$VN/ST=Hà Nội/O=UBND Thành phố Hà Nội/OU=Cổng dịch vụ công/CN=portal-hanoi" \
    "$OLD_S" "$OLD_E" valid member-signing smimesign
leaf members portal-hcm   national-2025-signing ecdsa-p256 leaf_signing \
    "$VN/ST=Hồ Chí Minh/O=UBND Thành phố Hồ Chí Minh/OU=Cổng dịch vụ công/CN=portal-hcm" \
    "$NEW_S" "$NEW_E" valid member-signing smimesign
leaf members portal-danang national-2025-signing ecdsa-p384 leaf_signing \
    "$VN/ST=Đà Nẵng/O=UBND Thành phố Đà Nẵng/OU=Cổng dịch vụ công/CN=portal-danang" \
    "$NEW_S" "$NEW_E" valid member-signing smimesign

# Ministries, under the Government CA.
leaf members mpi  government-signing rsa-3072   leaf_signing \
    "$VN/O=Bộ Kế hoạch và Đầu tư/CN=mpi"  "$GOV_S" "$GOV_E" valid member-signing smimesign
leaf members moit government-signing ecdsa-p256 leaf_signing \
    "$VN/O=Bộ Công Thương/CN=moit"        "$GOV_S" "$GOV_E" valid member-signing smimesign
leaf members moj  government-signing rsa-3072   leaf_signing \
    "$VN/O=Bộ Tư pháp/CN=moj"             "$GOV_S" "$GOV_E" valid member-signing smimesign

# The gateway's own signing certificate (receipts, re-signed envelopes).
leaf gateway lienthong-gateway government-signing ecdsa-p256 leaf_signing_client \
    "$VN/O=Lienthong/OU=Interoperability gateway/CN=lienthong-gateway" \
    "$GOV_S" "$GOV_E" valid gateway-signing smimesign

# TLS: the gateway's server certificate for localhost, and an mTLS client
# certificate for portal-hanoi.
leaf tls localhost government-signing ecdsa-p256 leaf_tls_server \
    "$VN/O=Lienthong/OU=Development TLS/CN=localhost" \
    "$GOV_S" "$GOV_E" valid tls-server sslserver
leaf tls portal-hanoi-client national-old-signing rsa-2048 leaf_tls_client \
    "$VN/O=UBND Thành phố Hà Nội/OU=mTLS client/CN=portal-hanoi" \
    "$OLD_S" "$OLD_E" valid tls-client sslclient

# --------------------------------------------------------------------------
# negative material
# --------------------------------------------------------------------------

leaf negative portal-revoked national-old-signing rsa-2048 leaf_signing \
    "$VN/O=UBND Thành phố Hà Nội/OU=Revoked (test)/CN=portal-revoked" \
    "$OLD_S" "$OLD_E" revoked member-signing smimesign
openssl ca -batch -config "$OUT/ca/national-old-signing/openssl.cnf" \
    -revoke "$OUT/negative/portal-revoked.cert.pem" -crl_reason keyCompromise 2>/dev/null

leaf negative expired national-old-signing rsa-2048 leaf_signing \
    "$VN/O=Lienthong DEV PKI - NOT TRUSTED/OU=Expired (test)/CN=expired" \
    20200101000000Z 20210101000000Z expired member-signing smimesign
leaf negative not-yet-valid national-2025-signing ecdsa-p256 leaf_signing \
    "$VN/O=Lienthong DEV PKI - NOT TRUSTED/OU=Not yet valid (test)/CN=not-yet-valid" \
    20400101000000Z 20410101000000Z not_yet_valid member-signing smimesign
leaf negative weak-rsa-1024 national-old-signing rsa-1024 leaf_signing \
    "$VN/O=Lienthong DEV PKI - NOT TRUSTED/OU=Weak key (test)/CN=weak-rsa-1024" \
    "$OLD_S" "$OLD_E" weak_key member-signing smimesign
leaf negative sha1-signed national-old-signing rsa-2048 leaf_signing \
    "$VN/O=Lienthong DEV PKI - NOT TRUSTED/OU=SHA-1 signature (test)/CN=sha1-signed" \
    "$OLD_S" "$OLD_E" sha1 member-signing smimesign -md sha1
leaf negative no-digital-signature government-signing ecdsa-p256 leaf_no_digital_signature \
    "$VN/O=Lienthong DEV PKI - NOT TRUSTED/OU=No digitalSignature (test)/CN=no-digital-signature" \
    "$GOV_S" "$GOV_E" no_digital_signature member-signing smimesign

# A self-signed root that is NOT in roots/ (so not in any trust store), and a
# leaf under it.
UNTRUSTED=untrusted-root
write_ca_config "$UNTRUSTED" sha256
genkey rsa-2048 "$OUT/ca/$UNTRUSTED/key.pem"
csr "$OUT/ca/$UNTRUSTED/key.pem" \
    "/C=VN/O=Somebody Else/CN=Untrusted Self-Signed Root" "$OUT/ca/$UNTRUSTED/req.csr"
sign "$UNTRUSTED" v3_root "$OUT/ca/$UNTRUSTED/req.csr" "$OUT/ca/$UNTRUSTED/cert.pem" \
    20250101000000Z 20451231235959Z -selfsign -keyfile "$OUT/ca/$UNTRUSTED/key.pem"
cp "$OUT/ca/$UNTRUSTED/cert.pem" "$OUT/negative/$UNTRUSTED.pem"
chmod 0644 "$OUT/negative/$UNTRUSTED.pem"
base="$OUT/negative/untrusted-leaf"
genkey ecdsa-p256 "$base.key.pem"
csr "$base.key.pem" "/C=VN/O=Somebody Else/CN=portal-hanoi" "$base.csr"
sign "$UNTRUSTED" leaf_signing "$base.csr" "$base.cert.pem" "$GOV_S" "$GOV_E"
rm -f "$base.csr"
cat "$base.cert.pem" "$OUT/negative/$UNTRUSTED.pem" >"$base.chain.pem"
chmod 0644 "$base.cert.pem" "$base.chain.pem"
index_add untrusted-leaf member-signing ecdsa-p256 untrusted smimesign negative/untrusted-leaf.cert.pem \
    negative/untrusted-leaf.key.pem negative/untrusted-leaf.chain.pem "" "negative/$UNTRUSTED.pem" ""

# --------------------------------------------------------------------------
# CRLs: one per root and per intermediate (so -crl_check_all works)
# --------------------------------------------------------------------------

for ca in national-root-old national-root-2025 government-ca \
          national-old-signing national-2025-signing government-signing; do
    openssl ca -batch -gencrl -config "$OUT/ca/$ca/openssl.cnf" \
        -crldays "$CRL_DAYS" -out "$OUT/crl/$ca.crl.pem" 2>/dev/null
    chmod 0644 "$OUT/crl/$ca.crl.pem"
done

# --------------------------------------------------------------------------
# index.json
# --------------------------------------------------------------------------

{
    echo '{'
    echo '  "generator": "certs/gen-dev-pki.sh",'
    echo '  "warning": "DEVELOPMENT ONLY - nothing here is trusted in production",'
    echo '  "trust_store": ["roots/national-root-old.pem", "roots/national-root-2025.pem", "roots/government-ca.pem"],'
    echo '  "crls": ["crl/national-root-old.crl.pem", "crl/national-root-2025.crl.pem", "crl/government-ca.crl.pem", "crl/national-old-signing.crl.pem", "crl/national-2025-signing.crl.pem", "crl/government-signing.crl.pem"],'
    echo '  "certificates": ['
    n=${#INDEX_ENTRIES[@]}
    for ((i = 0; i < n; i++)); do
        if ((i + 1 < n)); then echo "    ${INDEX_ENTRIES[$i]},"; else echo "    ${INDEX_ENTRIES[$i]}"; fi
    done
    echo '  ]'
    echo '}'
} >"$OUT/index.json"
chmod 0644 "$OUT/index.json"

# CA state: keep keys private, the rest readable.
find "$OUT/ca" -type d -exec chmod 0700 {} +
find "$OUT/ca" -name 'key.pem' -exec chmod 0600 {} +
for d in roots intermediates crl members gateway tls negative; do chmod 0755 "$OUT/$d"; done

echo "dev PKI written to $OUT (${#INDEX_ENTRIES[@]} certificates, see index.json)"
