#!/bin/sh
# Assembles the extension's scripts from their sources, so that each object's SQL is written once:
#   sql/assemble.sh install OUT         every file of sql/src/ in name order (the install script)
#   sql/assemble.sh update SOURCE OUT   an update script: SOURCE as written, each line
#                                       "--@include NAME" replaced by sql/src/NAME.sql with its
#                                       CREATE FUNCTION/PROCEDURE/VIEW made CREATE OR REPLACE
# (an update replaces objects that are already members of the extension; PostgreSQL refuses to
# replace one that is not, so a pre-created look-alike still fails the update).
set -eu
here=$(dirname "$0")
mode=$1
case "$mode" in
  install)
    out=$2
    for f in "$here"/src/*.sql; do cat "$f"; echo; done | sed '$d' >"$out.tmp"
    ;;
  update)
    source=$2 out=$3
    awk -v src="$here/src" '
      /^--@include [A-Za-z0-9_]+$/ {
        file = src "/" $2 ".sql"
        if ((getline line < file) <= 0) { print "assemble.sh: no " file > "/dev/stderr"; exit 1 }
        do {
          sub(/^CREATE FUNCTION /, "CREATE OR REPLACE FUNCTION ", line)
          sub(/^CREATE PROCEDURE /, "CREATE OR REPLACE PROCEDURE ", line)
          sub(/^CREATE VIEW /, "CREATE OR REPLACE VIEW ", line)
          print line
        } while ((getline line < file) > 0)
        close(file)
        next
      }
      { print }' "$source" >"$out.tmp"
    ;;
  *) echo "usage: $0 install OUT | update SOURCE OUT" >&2; exit 2 ;;
esac
mv "$out.tmp" "$out"
