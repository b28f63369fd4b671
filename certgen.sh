#!/usr/bin/env bash
# Makes the lab's self-signed TLS server certificate with the JDK's keytool (see usage below).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./certgen.sh [--out DIR] [--name HOST|IP]... [--days N] [--start OFFSET]
                    [--rsa [BITS]] [--force]

Makes the lab's self-signed server certificate with the JDK's keytool, in DIR
(default: certs):
  server.p12   PKCS12 keystore: private key + certificate, alias "server"
               (owner-only, 0600)
  server.pass  its random password, one line (owner-only, 0600); the server
               reads it from here, so no password is typed or shown anywhere
  server.crt   the certificate in PEM, for clients: ours, openssl, Python, curl

The certificate is valid for localhost, 127.0.0.1 and ::1, plus every --name.

Options:
  --out DIR        where to write the three files (default: certs)
  --name HOST|IP   one more name the certificate is valid for (repeatable);
                   the first one is also the subject's CN (default: localhost)
  --days N         validity in days (default: 365)
  --start OFFSET   start of validity, as keytool's -startdate: e.g. -30d, +10d,
                   -1y+2m, or "2030/01/01 12:00:00" (default: now).
                   To practise certificate errors, make one already expired
                   and one not yet valid:
                     ./certgen.sh --out expired --start -30d --days 1
                     ./certgen.sh --out future --start +10d
  --rsa [BITS]     an RSA key (default 2048 bits, at least 2048) with
                   SHA256withRSA, instead of EC P-256 with SHA256withECDSA
  --force          replace existing files
  -h, --help       show this help

Exit status: 0 done, 1 error (no keytool, files exist without --force,
keytool failed), 2 usage error.
EOF
}

usage_error() { printf 'certgen.sh: %s (see --help)\n' "$1" >&2; exit 2; }
fail() { printf 'certgen.sh: %s\n' "$@" >&2; exit 1; }

# The private key and its password must never exist with group/other permissions, not even briefly.
umask 077

out=certs days=365 start="" keyalg=EC bits=2048 force=false
names=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
    --out|--name|--days|--start)
      if [ "$#" -lt 2 ] || [[ "$2" == --* ]] || [ -z "$2" ]; then usage_error "$1 needs a value"; fi ;;
  esac
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --name) names+=("$2"); shift 2 ;;
    --days)
      [[ "$2" =~ ^[1-9][0-9]{0,5}$ ]] || usage_error "--days needs a positive whole number of days, not '$2'"
      days="$2"; shift 2 ;;
    --start)
      [[ "$2" =~ ^([+-][0-9]+[ymdHMS])+$ || "$2" =~ ^[0-9]{4}/[0-9]{2}/[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?$ ]] ||
        usage_error "--start needs an offset like -30d or +10d, or a date like '2030/01/01 12:00:00', not '$2'"
      start="$2"; shift 2 ;;
    --rsa)
      keyalg=RSA; shift
      if [ "$#" -gt 0 ] && [[ "$1" =~ ^[0-9]{1,6}$ ]]; then bits="$1"; shift; fi
      if [ "$bits" -lt 2048 ] || [ "$bits" -gt 16384 ]; then
        usage_error "--rsa needs between 2048 and 16384 bits, not '$bits'"
      fi ;;
    --force) force=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option or argument '$1'" ;;
  esac
done
[ "$out" = / ] || out="${out%/}"

# keytool: the JDK in JAVA_HOME first (as for java itself), else the one on PATH.
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/keytool" ]; then keytool="$JAVA_HOME/bin/keytool"
elif command -v keytool >/dev/null; then keytool="$(command -v keytool)"
else fail "no 'keytool' found: it comes with every JDK; install a JDK 17 or newer or set JAVA_HOME."
fi
# English dates and labels in keytool's output whatever the user's locale (the summary parses them);
# the other flags only make each short keytool run start faster.
kt() { "$keytool" -J-Duser.language=en -J-Duser.country=US -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC "$@"; }

# Subject alternative names: keytool wants "ip:" for address literals and "dns:" for host names.
san="dns:localhost,ip:127.0.0.1,ip:::1"
for name in ${names[@]+"${names[@]}"}; do  # the guard: bash 3.2 (macOS) calls an empty array unbound
  if [[ "$name" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ || ( "$name" == *:* && "$name" =~ ^[0-9A-Fa-f:.]+$ ) ]]; then
    entry="ip:$name"
  elif [[ "$name" =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    entry="dns:$name"
  else
    usage_error "--name needs a host name or an IP address, not '$name'"
  fi
  [[ ",$san," == *",$entry,"* ]] || san="$san,$entry"
done
cn="${names[0]:-localhost}"

p12="$out/server.p12" pass="$out/server.pass" crt="$out/server.crt"
if [ "$force" = false ]; then
  for file in "$p12" "$pass" "$crt"; do
    [ ! -e "$file" ] || fail "$file already exists: use --force to replace the certificate set in $out/."
  done
fi

# Everything is made in a private folder beside the destination and moved into place at the end,
# so a failure leaves no half-made set behind.
mkdir -p "$out"
work="$(mktemp -d "$out/.certgen.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# 192 random bits as hex: letters and digits only, so it survives any shell, config file or copy-paste.
od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$work/server.pass"

if [ "$keyalg" = EC ]; then key=(-keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA); describe="EC P-256"
else key=(-keyalg RSA -keysize "$bits" -sigalg SHA256withRSA); describe="RSA-$bits"; fi
validity=(-validity "$days")
[ -z "$start" ] || validity+=(-startdate "$start")

if ! log="$(kt -genkeypair -alias server "${key[@]}" -dname "CN=$cn" -ext "SAN=$san" "${validity[@]}" \
              -storetype PKCS12 -keystore "$work/server.p12" -storepass:file "$work/server.pass" 2>&1)" ||
   ! log="$(kt -exportcert -rfc -alias server -keystore "$work/server.p12" -storepass:file "$work/server.pass" \
              -file "$work/server.crt" 2>&1)"; then
  fail "keytool failed: $log"
fi
chmod 0600 "$work/server.p12" "$work/server.pass"
chmod 0644 "$work/server.crt"
details="$(kt -printcert -file "$work/server.crt")"

mv -f "$work/server.pass" "$pass"
mv -f "$work/server.p12" "$p12"
mv -f "$work/server.crt" "$crt"

fingerprint="$(sed -n 's/^[[:space:]]*SHA256: //p' <<<"$details")"
valid="$(sed -n 's/^Valid from: //p' <<<"$details")"  # "<from> until: <to>"
# The scripts look in certs/ by default; other folders must be named.
if [ "$out" = certs ]; then server="./jbang server.java" client="./jbang client.java localhost 8443"
else
  printf -v server './jbang server.java --keystore %q --password-file %q' "$p12" "$pass"
  printf -v client './jbang client.java localhost 8443 --trust %q' "$crt"
fi
cat <<EOF
Made a self-signed $describe certificate, CN=$cn, valid for:
  $(sed -e 's/dns:/DNS:/g; s/ip:/IP:/g; s/,/, /g' <<<"$san")
Valid from: ${valid%% until: *}
Expires:    ${valid#* until: }
Files:
  $p12   keystore (private key + certificate, alias "server"), owner-only
  $pass  its random password (the server reads it from here), owner-only
  $crt   the certificate (PEM) for clients
SHA-256 fingerprint: $fingerprint
Next: $server
  then, in another terminal: $client
EOF
