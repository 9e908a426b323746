# shellcheck shell=bash
# The one writer of cmsd node configurations (TOML) for the scripts (sourced).
#
#   node_toml OUT [--base FILE] [--set TABLE.KEY=TOML_VALUE]... [--extra TOML_TEXT]
#
# --base starts from an existing node file (the lab starts from config/node-a.toml, so keys added
#   there later, e.g. new [peer] settings, reach the lab without touching this writer); its
#   relative paths ("../run/...") are made absolute against the base file's directory, because
#   cmsd resolves them against the directory of the file it reads, and OUT lives elsewhere.
# --set one key; the value is TOML as written in a file: '"cms-a"', 100, true, '["a", "b"]'.
# --extra a TOML fragment merged over the rest, table by table (callers pass whole tables, e.g.
#   "[billing]\nrks_primary = ..."; PAIR_EXTRA_CONFIG of the drills is such a fragment).
# Later options win. Unknown keys are cmsd's business: `cmsd --check-config OUT` finds typos.
#
#   node_toml_value FILE TABLE.KEY      prints one value of a node file (strings unquoted)

[ -n "${CMS_LIB_NODE:-}" ] && return 0
CMS_LIB_NODE=1

node_toml() {
  python3 - "$@" <<'PY'
import json, os, sys, tomllib

out, args = sys.argv[1], sys.argv[2:]
doc = {}          # table -> {key: python value}
raw = {}          # (table, key) -> TOML text given with --set (written as given)

def merge(d):
    for table, body in d.items():
        if not isinstance(body, dict):
            sys.exit(f"node_toml: top-level key '{table}' is not in a table")
        t = doc.setdefault(table, {})
        for k, v in body.items():
            t[k] = v
            raw.pop((table, k), None)

def absolutise(d, base_dir):
    for body in d.values():
        for k, v in body.items():
            if isinstance(v, str) and (v.startswith("../") or v.startswith("./")):
                body[k] = os.path.normpath(os.path.join(base_dir, v))

i = 0
while i < len(args):
    opt = args[i]
    val = args[i + 1] if i + 1 < len(args) else sys.exit(f"node_toml: {opt} needs a value")
    i += 2
    if opt == "--base":
        with open(val, "rb") as f:
            d = tomllib.load(f)
        absolutise(d, os.path.dirname(os.path.abspath(val)))
        merge(d)
    elif opt == "--set":
        name, _, text = val.partition("=")
        table, _, key = name.strip().partition(".")
        if not key or not text:
            sys.exit(f"node_toml: --set wants TABLE.KEY=VALUE, got '{val}'")
        tomllib.loads("v = " + text)  # refuse a value that is not TOML now, not at cmsd start
        doc.setdefault(table, {})[key] = None
        raw[(table, key)] = text.strip()
    elif opt == "--extra":
        merge(tomllib.loads(val))
    else:
        sys.exit(f"node_toml: unknown option {opt}")

def lit(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(lit(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {lit(x)}" for k, x in v.items()) + " }"
    sys.exit(f"node_toml: cannot write {v!r}")

with open(out + ".tmp", "w") as f:
    f.write("# written by scripts/lib/node.sh\n")
    for table, body in doc.items():
        f.write(f"\n[{table}]\n")
        for k, v in body.items():
            f.write(f"{k} = {raw[(table, k)] if (table, k) in raw else lit(v)}\n")
os.replace(out + ".tmp", out)
PY
}

node_toml_value() {
  python3 - "$1" "$2" <<'PY'
import sys, tomllib
table, _, key = sys.argv[2].partition(".")
v = tomllib.load(open(sys.argv[1], "rb")).get(table, {}).get(key, "")
print(str(v).lower() if isinstance(v, bool) else v)
PY
}
