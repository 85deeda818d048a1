#!/bin/sh
# What `make install` put under $DESTDIR$PREFIX must work: run by `make install-check` (and so by CI).
set -eu
root="$DESTDIR$PREFIX"
bin="$root/bin/mcpconn"
fail() { echo "check-install: $*" >&2; exit 1; }
[ -x "$bin" ] && [ -x "$root/bin/mcpconn-serve-http" ] && [ -x "$root/bin/mcpconn-reaper" ] || fail "programs missing"
# The reaper (which runs every local server) runs a program and exits as it did.
status=0
"$root/bin/mcpconn-reaper" $$ -- /bin/sh -c 'exit 7' || status=$?
[ "$status" = 7 ] || fail "mcpconn-reaper does not run a program"
# No debug sections and no symbol table: what a package ships.
if readelf -S "$bin" | grep -q '\.debug_\|\.symtab'; then fail "mcpconn is not stripped"; fi
"$bin" --version | grep -q '^[0-9]' || fail "--version"
db=$(mktemp -u)
"$bin" add x https://x.example/mcp --db "$db" >/dev/null && "$bin" list --db "$db" | grep -q '^1 ' || fail "add/list"
rm -f "$db" "$db-wal" "$db-shm"
grep -q 'mcpconn' "$root/share/bash-completion/completions/mcpconn" || fail "bash completion"
grep -q '_mcpconn' "$root/share/zsh/site-functions/_mcpconn" || fail "zsh completion"
grep -q 'mcpconn' "$root/share/fish/vendor_completions.d/mcpconn.fish" || fail "fish completion"
MANWIDTH=80 man -l "$root/share/man/man1/mcpconn.1" 2>/dev/null | grep -q 'refresh' || fail "man page"
bash -c ". '$root/share/bash-completion/completions/mcpconn'" || fail "bash completion does not load"
echo "check-install: $(du -h "$bin" | cut -f1) mcpconn, completions and man page in place"
