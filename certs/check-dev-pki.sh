#!/usr/bin/env bash
# Regenerate the development PKI into OUTDIR and prove that every certificate
# listed in OUTDIR/index.json behaves as its "expected" field claims, using
# `openssl verify` against a trust store of all three dev roots, with every CRL
# loaded and checked along the whole chain.
#
#   bash certs/check-dev-pki.sh OUTDIR
#
# Exits non-zero on any mismatch. Needs only openssl (3.x) and coreutils.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$HERE/gen-dev-pki.sh" "$1"
OUT="$(cd "$1" && pwd)"
export OPENSSL_CONF=/dev/null

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The trust store: every root under roots/ (old + 2025 national, Government CA).
TRUST="$WORK/trust.pem"
cat "$OUT"/roots/*.pem >"$TRUST"
# Every CRL (roots and intermediates), so that -crl_check_all can succeed.
CRLS="$WORK/crls.pem"
cat "$OUT"/crl/*.crl.pem >"$CRLS"

failures=0
checked=0

pass() { printf '  ok    %-22s %s\n' "$NAME" "$1"; }
fail() { printf '  FAIL  %-22s %s\n' "$NAME" "$1"; failures=$((failures + 1)); }

# field NAME -- the string value of key NAME in the current index line ("" if null)
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$LINE"; }

# verify [openssl verify options...] -- runs openssl verify on the current
# certificate, with its issuer (if any) as an untrusted intermediate. Sets
# VOUT (combined output) and VRC (exit status).
verify() {
    local args=("$@")
    [[ -n "$ISSUER" && "$ISSUER" == intermediates/* ]] && args+=(-untrusted "$OUT/$ISSUER")
    set +e
    VOUT=$(openssl verify "${args[@]}" "$OUT/$FILE" 2>&1)
    VRC=$?
    set -e
}

# The full production-like check: all roots trusted, all CRLs checked on the
# whole chain, security level 2 (>= 112-bit keys, no SHA-1), purpose-aware.
verify_strict() {
    local extra=()
    [[ -n "$PURPOSE" && "$PURPOSE" != any ]] && extra+=(-purpose "$PURPOSE")
    [[ "$PURPOSE" == sslserver ]] && extra+=(-verify_hostname localhost -verify_ip 127.0.0.1)
    verify -CAfile "$TRUST" -CRLfile "$CRLS" -crl_check_all -auth_level 2 -x509_strict "${extra[@]}" "$@"
}

expect_ok() {      # DESCRIPTION
    if [[ $VRC -eq 0 && "$VOUT" == *": OK"* ]]; then pass "$1"; else fail "$1: $VOUT"; fi
}
expect_error() {   # MESSAGE DESCRIPTION
    if [[ $VRC -ne 0 && "$VOUT" == *"$1"* ]]; then pass "$2"; else fail "$2: expected '$1', got (rc=$VRC): $VOUT"; fi
}

# openssl -attime takes seconds since the epoch; one day after notBefore.
attime_inside() { echo $(( $(date -u -d "$NOT_BEFORE" +%s) + 86400 )); }

while IFS= read -r LINE; do
    NAME=$(field name)
    FILE=$(field file)
    EXPECTED=$(field expected)
    PURPOSE=$(field purpose)
    ISSUER=$(field issuer_file)
    ANCHOR=$(field trust_anchor)
    KEY=$(field key)
    KEY_TYPE=$(field key_type)
    NOT_BEFORE=$(field not_before)
    checked=$((checked + 1))

    if [[ ! -f "$OUT/$FILE" ]]; then fail "missing file $FILE"; continue; fi

    # Index metadata must match the certificate itself.
    spki=$(openssl x509 -in "$OUT/$FILE" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
    if [[ "$spki" == "$(field spki_sha256)" ]]; then pass "spki_sha256 matches"; else fail "spki_sha256 mismatch"; fi
    if [[ -n "$KEY" ]]; then
        keyspki=$(openssl pkey -in "$OUT/$KEY" -pubout -outform DER | sha256sum | cut -d' ' -f1)
        perms=$(stat -c %a "$OUT/$KEY")
        if [[ "$keyspki" == "$spki" && "$perms" == 600 ]]; then pass "key matches, mode 0600"
        else fail "key $KEY: spki match=$([[ "$keyspki" == "$spki" ]] && echo yes || echo no) mode=$perms"; fi
    fi
    TEXT=$(openssl x509 -in "$OUT/$FILE" -noout -text)
    case "$KEY_TYPE" in
        rsa-*)      want="Public-Key: (${KEY_TYPE#rsa-} bit)" ;;
        ecdsa-p256) want="NIST CURVE: P-256" ;;
        ecdsa-p384) want="NIST CURVE: P-384" ;;
        *)          want="??? $KEY_TYPE" ;;
    esac
    if [[ "$TEXT" == *"$want"* ]]; then pass "key type $KEY_TYPE"; else fail "key type is not $KEY_TYPE"; fi

    case "$EXPECTED" in
        valid)
            verify_strict
            expect_ok "verifies (crl_check_all, auth_level 2, purpose ${PURPOSE:-any})"
            ;;
        revoked)
            verify_strict
            expect_error "certificate revoked" "revoked"
            verify -CAfile "$TRUST"
            expect_ok "verifies without CRL check (revocation is its only defect)"
            ;;
        expired)
            verify_strict
            expect_error "certificate has expired" "expired"
            verify -CAfile "$TRUST" -auth_level 2 -attime "$(attime_inside)"
            expect_ok "verifies at -attime inside its validity"
            ;;
        not_yet_valid)
            verify_strict
            expect_error "certificate is not yet valid" "not yet valid"
            verify -CAfile "$TRUST" -auth_level 2 -attime "$(attime_inside)"
            expect_ok "verifies at -attime inside its validity"
            ;;
        untrusted)
            verify_strict
            expect_error "unable to get local issuer certificate" "untrusted"
            verify -CAfile "$OUT/$ANCHOR"
            expect_ok "verifies against its own (untrusted) root"
            ;;
        weak_key)
            if [[ "$TEXT" == *"Public-Key: (1024 bit)"* ]]; then pass "RSA key is 1024 bits"; else fail "key is not 1024 bits"; fi
            verify_strict
            expect_error "EE certificate key too weak" "refused at auth_level 2"
            verify -CAfile "$TRUST" -CRLfile "$CRLS" -crl_check_all
            expect_ok "chain otherwise valid (no security level)"
            ;;
        sha1)
            sig=$(sed -n 's/^ *Signature Algorithm: *//p' <<<"$TEXT" | head -n1)
            if [[ "$sig" == sha1WithRSAEncryption ]]; then pass "signed with sha1WithRSAEncryption"; else fail "signature algorithm is $sig"; fi
            verify_strict
            expect_error "digest algorithm too weak" "refused at auth_level 2"
            verify -CAfile "$TRUST" -CRLfile "$CRLS" -crl_check_all
            expect_ok "chain otherwise valid (no security level)"
            ;;
        no_digital_signature)
            ku=$(openssl x509 -in "$OUT/$FILE" -noout -ext keyUsage | tail -n +2)
            if [[ -n "$ku" && "$ku" != *"Digital Signature"* ]]; then pass "keyUsage lacks digitalSignature ($(echo $ku))"
            else fail "keyUsage is '$ku'"; fi
            verify_strict
            expect_error "unsuitable certificate purpose" "refused for purpose $PURPOSE"
            verify -CAfile "$TRUST" -CRLfile "$CRLS" -crl_check_all -auth_level 2
            expect_ok "chain otherwise valid (no purpose)"
            ;;
        *)
            fail "unknown expected outcome '$EXPECTED'"
            ;;
    esac
done < <(grep '^ *{"name":' "$OUT/index.json")

# Every expected outcome must be represented.
for outcome in valid revoked expired not_yet_valid weak_key sha1 no_digital_signature untrusted; do
    NAME="index"
    if grep -q "\"expected\":\"$outcome\"" "$OUT/index.json"; then pass "has a '$outcome' certificate"
    else fail "no '$outcome' certificate in index.json"; fi
done

# Each chain.pem is leaf + its issuer.
for chain in "$OUT"/{members,gateway,tls,negative}/*.chain.pem; do
    NAME=$(basename "$chain" .chain.pem)
    n=$(grep -c 'BEGIN CERTIFICATE' "$chain")
    if [[ $n -eq 2 ]]; then pass "chain.pem holds 2 certificates"; else fail "chain.pem holds $n certificates"; fi
done

# No private key outside ca/ or *.key.pem, and none world/group readable.
NAME="keys"
stray=$(grep -rl 'PRIVATE KEY' "$OUT" --include='*.pem' | grep -v -e '\.key\.pem$' -e '/ca/[^/]*/key\.pem$' || true)
if [[ -z "$stray" ]]; then pass "private keys only in *.key.pem / ca/*/key.pem"; else fail "stray keys: $stray"; fi
loose=$(find "$OUT" -name '*key.pem' ! -perm 0600)
if [[ -z "$loose" ]]; then pass "all keys are mode 0600"; else fail "keys not 0600: $loose"; fi

echo
if [[ $checked -eq 0 ]]; then echo "no certificates found in index.json" >&2; exit 1; fi
if [[ $failures -ne 0 ]]; then
    echo "dev PKI check FAILED: $failures mismatch(es) across $checked certificates" >&2
    exit 1
fi
echo "dev PKI check passed: $checked certificates behave as index.json says"
