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

Run again, it keeps the set it made, so "./certgen.sh && ./jbang server.java"
starts the server every time. Over a complete set (server.pass opens
server.p12, server.crt is its certificate), a run with no option but --out
changes nothing: it prints the certificate's names, expiry and fingerprint
and exits 0. It warns, with the --force command that renews the certificate,
when that expires within 14 days; in certs also when it has expired or is not
valid yet (elsewhere those are only marked on its dates: sets made with
--start, as below, are often so on purpose).
Files are never replaced without --force: an incomplete or mismatched set,
or --name, --days, --start or --rsa over an existing set, is an error that
says what is wrong and how to fix it.

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
  --force          make a new set, replacing the files in DIR
  -h, --help       show this help

Exit status: 0 done (made a new set, or kept a complete one), 1 error (no
keytool, an existing set that is incomplete or mismatched or that a --name,
--days, --start or --rsa would replace without --force, keytool failed),
2 usage error.
EOF
}

usage_error() { printf 'certgen.sh: %s (see --help)\n' "$1" >&2; exit 2; }
# An error: the first argument is what is wrong, each further one an indented line (the fix).
fail() {
  printf 'certgen.sh: %s\n' "$1" >&2; shift
  [ "$#" -eq 0 ] || printf '  %s\n' "$@" >&2
  exit 1
}

# The private key and its password must never exist with group/other permissions, not even briefly.
umask 077

out=certs days=365 start="" keyalg=EC bits=2048 force=false
names=()
given=("$@")  # as typed, for the --force command a refusal suggests
asked=""      # the options given that ask for a particular certificate: a new one
ask() { [[ " $asked " == *" $1 "* ]] || asked="${asked:+$asked }$1"; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
    --out|--name|--days|--start)
      if [ "$#" -lt 2 ] || [[ "$2" == --* ]] || [ -z "$2" ]; then usage_error "$1 needs a value"; fi ;;
  esac
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --name) names+=("$2"); ask "$1"; shift 2 ;;
    --days)
      [[ "$2" =~ ^[1-9][0-9]{0,5}$ ]] || usage_error "--days needs a positive whole number of days, not '$2'"
      days="$2"; ask "$1"; shift 2 ;;
    --start)
      [[ "$2" =~ ^([+-][0-9]+[ymdHMS])+$ || "$2" =~ ^[0-9]{4}/[0-9]{2}/[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?$ ]] ||
        usage_error "--start needs an offset like -30d or +10d, or a date like '2030/01/01 12:00:00', not '$2'"
      start="$2"; ask "$1"; shift 2 ;;
    --rsa)
      keyalg=RSA; ask "$1"; shift
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
[ "$out" = . ] || out="${out#./}"  # ./certs is the default folder too

# keytool: the JDK in JAVA_HOME first (as for java itself), else the one on PATH.
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/keytool" ]; then keytool="$JAVA_HOME/bin/keytool"
elif command -v keytool >/dev/null; then keytool="$(command -v keytool)"
else fail "no 'keytool' found: it comes with every JDK; install a JDK 17 or newer or set JAVA_HOME."
fi
# English dates and labels in keytool's output whatever the user's locale, and times in UTC as the server and client
# print them (the summaries parse them); the other flags only make each short keytool run start faster.
kt() {
  "$keytool" -J-Duser.language=en -J-Duser.country=US -J-Duser.timezone=UTC -J-XX:TieredStopAtLevel=1 \
    -J-XX:+UseSerialGC "$@"
}

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
# The command that makes a new set here: a hint names the folder unless it is the default one.
renew="./certgen.sh --force"
[ "$out" = certs ] || printf -v renew '%s --out %q' "$renew" "$out"

listed() {  # its arguments as English: "a", "a and b", "a, b and c"
  local text="$1"; shift
  while [ "$#" -gt 1 ]; do text="$text, $1"; shift; done
  [ "$#" -eq 0 ] || text="$text and $1"
  printf '%s' "$text"
}

# The SHA-256 fingerprint of the first PEM certificate in a file, written as keytool writes one (AB:CD:...);
# nothing when the file holds none.
pem_fingerprint() {
  local body hex digest
  body="$(awk '/^-----BEGIN CERTIFICATE-----/ { inside = 1; next } /^-----END CERTIFICATE-----/ { exit } inside' "$1" |
          tr -d ' \t\r\n')" || return 0
  [[ "$body" =~ ^[A-Za-z0-9+/]+=*$ ]] || return 0
  if command -v base64 >/dev/null && digest="$(command -v sha256sum || command -v shasum || command -v openssl)"; then
    case "$digest" in
      */sha256sum) digest=(sha256sum) ;;
      */shasum) digest=(shasum -a 256) ;;
      *) digest=(openssl dgst -sha256 -r) ;;
    esac
    # --decode: GNU and macOS; -d: BusyBox.
    hex="$({ base64 --decode <<<"$body" 2>/dev/null || base64 -d <<<"$body"; } | "${digest[@]}")" || return 0
    hex="${hex%%[ *]*}"
    tr 'a-f' 'A-F' <<<"$hex" | sed 's/../&:/g; s/:$//'
  else  # no hashing tool: a second keytool run
    { kt -printcert -file "$1" 2>/dev/null || true; } | sed -n '/^[[:space:]]*SHA256: /{s///p;q;}'
  fi
}

# Seconds since 1970 of a date as keytool writes it in UTC, "Thu Dec 02 00:58:13 UTC 2027": GNU date (Linux, Git
# Bash), else BSD date (macOS); fails where neither reads it, and then no expiry is judged.
epoch() { date -u -d "$1" +%s 2>/dev/null || date -u -j -f '%a %b %d %T %Z %Y' "$1" +%s 2>/dev/null; }

days() {  # a duration in seconds, in days
  local n=$((($1 + 43200) / 86400))
  if [ "$1" -lt 86400 ]; then printf 'less than a day'
  elif [ "$n" -eq 1 ]; then printf '1 day'
  else printf '%s days' "$n"; fi
}

# An existing set is kept when it is complete and its files belong together, and only for a plain run (an option
# that asks for a particular certificate, over an existing set, is refused). Nothing is written either way.
keep_existing_set() {
  local folder="${out%/}/" there=() missing=() file
  for file in "$p12" "$pass" "$crt"; do
    if [ -e "$file" ] || [ -L "$file" ]; then there+=("$file"); else missing+=("$file"); fi
  done
  [ -n "${there[*]+set}" ] || return 0  # nothing there: make a new set

  if [ -n "$asked" ]; then
    local options verb=asks exist=exists command="./certgen.sh --force" arg fix
    read -ra options <<<"$asked"
    [ "${#options[@]}" -eq 1 ] || verb=ask
    [ "${#there[@]}" -eq 1 ] || exist=exist
    for arg in ${given[@]+"${given[@]}"}; do printf -v arg '%q' "$arg"; command="$command $arg"; done
    fix="Fix: replace the set with $command (clients must then trust the new certificate)"
    fail "$(listed "${options[@]}") $verb for a new certificate, but $(listed "${there[@]}") already $exist." \
         "$fix, or choose another folder: --out DIR."
  fi
  if [ -n "${missing[*]+set}" ]; then
    local are=is them=it others=is what
    [ "${#missing[@]}" -eq 1 ] || are=are them=them
    [ "${#there[@]}" -eq 1 ] || others=are
    what="$(listed "${missing[@]}") $are missing ($(listed "${there[@]}") $others there)"
    fail "$folder holds an incomplete certificate set: $what." \
         "Fix: put $them back, or make a new set: $renew"
  fi

  # One keytool run: the password must open the keystore, and the listing has what the summary shows.
  local listing problem
  if ! listing="$(kt -list -v -alias server -keystore "$p12" -storetype PKCS12 \
                    -storepass:file "$pass" 2>&1)"; then
    problem="${listing%%$'\n'*}" problem="${problem#keytool error: }"  # its first line, less the exception's class
    problem="${problem#*Exception: }" problem="${problem%.}"
    if [[ "$problem" == *"password was incorrect"* ]]; then
      fail "$pass does not open $p12 (wrong password): they are not from the same run." \
           "Fix: put back the server.pass made with that server.p12, or make a new set: $renew"
    fi
    fail "cannot read $p12 with the password in $pass (keytool: $problem)." "Fix: make a new set: $renew"
  fi
  [[ "$listing" == *$'\n'"Entry type: PrivateKeyEntry"$'\n'* ]] ||
    fail "$p12 holds no private key under the alias \"server\", so a server cannot use it." \
         "Fix: make a new set: $renew"

  local fingerprint crt_fingerprint
  fingerprint="$(sed -n '/^[[:space:]]*SHA256: /{s///p;q;}' <<<"$listing")"
  crt_fingerprint="$(pem_fingerprint "$crt")"
  if [ -z "$crt_fingerprint" ] || [ "$crt_fingerprint" != "$fingerprint" ]; then
    local why="their SHA-256 fingerprints differ"
    [ -n "$crt_fingerprint" ] || why="it holds no PEM certificate"
    [ -r "$crt" ] || why="it cannot be read"
    fail "$crt is not the certificate in $p12 ($why): clients that trust it would refuse the server." \
         "Fix: make a new, matching set: $renew"
  fi

  # The summary. Dates are checked against now. A certificate that expires soon is a warning; one that has expired
  # or is not valid yet is one only in the default folder, since sets elsewhere are often made so on purpose
  # (--start): there its dates are only marked.
  local owner valid names from until now from_s until_s note_from="" note_until="" warning="" soon=false
  owner="$(sed -n '/^Owner: /{s///p;q;}' <<<"$listing")"
  valid="$(sed -n '/^Valid from: /{s///p;q;}' <<<"$listing")"  # "<from> until: <to>"
  names="$(awk '/^SubjectAlternativeName \[/ { inside = 1; next }
                inside && /^\]/ { exit }
                inside { sub(/^ */, ""); sub(/^DNSName: /, "DNS:"); sub(/^IPAddress: /, "IP:")
                         printf "%s%s", sep, $0; sep = ", " }' <<<"$listing")"
  from="${valid%% until: *}" until="${valid#* until: }"
  if now="$(date -u +%s)" && from_s="$(epoch "$from")" && until_s="$(epoch "$until")"; then
    if [ "$now" -lt "$from_s" ]; then
      note_from=" (NOT YET VALID: in $(days $((from_s - now))))"
      warning="is not valid until $from (in $(days $((from_s - now)))): clients will refuse it until then."
    elif [ "$now" -ge "$until_s" ]; then
      note_until=" (EXPIRED $(days $((now - until_s))) ago)"
      warning="EXPIRED $(days $((now - until_s))) ago, on $until: clients refuse it."
    else
      note_until=" (in $(days $((until_s - now))))"
      if [ $((until_s - now)) -lt $((14 * 86400)) ]; then
        soon=true warning="expires in $(days $((until_s - now))), on $until: clients will refuse it from then on."
      fi
    fi
  fi
  cat <<EOF
Kept the certificate set in $folder (use --force to make a new one: $renew):
  $(listed "$p12" "$pass" "$crt"), unchanged
  $owner, valid for: $names
Valid from: $from$note_from
Expires:    $until$note_until
SHA-256 fingerprint: $fingerprint
EOF
  if [ -n "$warning" ] && { [ "$out" = certs ] || [ "$soon" = true ]; }; then
    printf 'certgen.sh: warning: the kept certificate %s\n  Fix: make a new one: %s\n' "$warning" "$renew" >&2
  fi
  exit 0
}
[ "$force" = true ] || keep_existing_set

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
