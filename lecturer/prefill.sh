#!/usr/bin/env bash
# Fills a folder once, on a machine with network access, with everything the lab would otherwise download, for lab
# machines that have none (LAB-IMAGE.md): JBang itself and the lab's programs built (DEST/.jbang), their one
# dependency, picocli (DEST/.m2/repository), and jars that plain `java -jar` runs, in the project's dist/ folder.
# DEST is laid out as a home folder: each lab user gets a copy of its contents in their own home.
set -euo pipefail

fail() { printf 'prefill: %s\n' "$*" >&2; exit "${status:-1}"; }
if [ $# -ne 1 ] || [[ "$1" == -* ]]; then
  status=2 fail "usage: lecturer/prefill.sh DEST (a folder to copy into each lab user's home; see LAB-IMAGE.md)"
fi
project="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
dest="$(cd "$1" && pwd)"

# JBang's usual places, but under DEST: JBang itself, its cache of built scripts, and the Maven repository.
export JBANG_DIR="$dest/.jbang" JBANG_REPO="$dest/.m2/repository"
cd "$project"
# Every program the README and the workbook run with ./jbang (tests/ is for contributors, who have a network).
for script in server.java client.java examples/*.java lecturer/LabCheck.java; do
  ./jbang build "$script"
done
# Only the launcher's own copy of JBang lands in DEST: an installed jbang would take over and leave it empty.
compgen -G "$JBANG_DIR/bootstrap/jbang-*/lib/jbang-cli-*.jar" >/dev/null ||
  fail "an installed JBang ($(command -v jbang)) ran instead of ./jbang's own copy: run this with it off PATH."

# The jars for machines without JBang (or without bash). --release 17 makes Java 17 class files whatever JDK
# runs this, so they run on 17 and every later JDK. --fresh: JBang would otherwise reuse the jar it built above,
# which it does not rebuild for a new compiler option.
mkdir -p dist
for script in server.java client.java examples/Wiretap.java; do
  name="${script##*/}"
  ./jbang export fatjar --quiet --fresh --force --compile-option=--release=17 -O "dist/${name%.java}.jar" "$script"
done

printf 'Filled %s (%s): give each lab user a copy of its contents in their home (LAB-IMAGE.md, step 3).\n' \
  "$dest" "$(du -sh "$dest" | cut -f 1)"
printf 'Jars for java -jar: %s\n' "$(echo dist/*.jar)"
